// The real pieces a sidecar talks to: the controller (policy informer + entitlement feed) and an issuer with the re-issuance channel.
import { randomUUID } from "node:crypto";
import { request } from "node:https";
import { pino } from "pino";
import { DEFAULT_TESSERA_AUDIENCE, PATH_JWKS } from "../../../api/constants.ts";
import { composeIssuer } from "../../../controller/src/app/compose-issuer.ts";
import { createHttpsJsonFetcher } from "../../../controller/src/issuer/subject/fetch-json.ts";
import type { Issuer } from "../../../controller/src/issuer/issuer.ts";
import { SecretKeyStore } from "../../../controller/src/issuer/keys/key-store.ts";
import { apiNamespaceLookup, apiPodLookup } from "../../../controller/src/issuer/subject/pod-lookup-api.ts";
import type { ControllerCore } from "../../../controller/src/reconcile/controller.ts";
import type { PolicySet } from "../../../controller/src/policy/index.ts";
import type { CompiledResource } from "../../../controller/src/app/engine-adapters.ts";
import { generatePki } from "../../controlplane/pki.ts";
import { controlPlaneInfo, kubeClients } from "../support/index.ts";

export interface IssuerHandle {
  readonly url: string;
  readonly caPem: string;
  /** Stops the issuer (the sidecar sees connection refused). */
  stop(): Promise<void>;
  /** Starts a new issuer process-equivalent on the same port, keys and certificate. */
  restart(): Promise<void>;
}

/** Starts a real issuer whose policies and re-issuance feed come from the running controller. */
export async function startIssuerWithFeed(
  core: ControllerCore<CompiledResource, PolicySet>,
  keyNamespace: string,
  port: number,
): Promise<IssuerHandle> {
  const info = controlPlaneInfo();
  const clients = kubeClients();
  const pki = await generatePki(new Date());
  const url = `https://127.0.0.1:${port}`;
  const tls = { cert: pki.serving.certPem, key: pki.serving.keyPem };
  const build = (): Issuer =>
    composeIssuer({
      config: {
        issuerUrl: url,
        audience: DEFAULT_TESSERA_AUDIENCE,
        cluster: { name: "test-cluster", environment: "test" },
        serviceAccountIssuer: info.serviceAccountIssuer,
        subjectVerification: "jwks",
        leewaySeconds: 30,
        maxSubjectTokenAgeSeconds: 86_400,
        jwksMaxAgeSeconds: 60,
        signing: { algorithm: "ES256", rotationSeconds: 86_400, prePublicationSeconds: 120, maxTokenTtlSeconds: 3600, reloadSeconds: 30 },
      },
      policies: () => core.policySet.current,
      fetchJson: createHttpsJsonFetcher({ ca: info.caPem }),
      pods: apiPodLookup(clients.core),
      namespaces: apiNamespaceLookup(clients.core),
      recorders: [],
      keyStore: new SecretKeyStore(clients.core, keyNamespace),
      isLeader: () => true,
      feed: core.feed,
      tls: () => tls,
      logger: pino({ level: process.env["TESSERA_TEST_LOG_LEVEL"] ?? "silent" }),
      now: () => new Date(),
      newId: randomUUID,
    });
  let issuer: Issuer | undefined = build();
  await issuer.start(port, "127.0.0.1");
  return {
    url,
    caPem: pki.ca.certPem,
    async stop() {
      await issuer?.stop();
      issuer = undefined;
    },
    async restart() {
      issuer = build();
      await issuer.start(port, "127.0.0.1");
    },
  };
}

/** The issuer's JWKS, fetched trusting only its CA. */
export function fetchJwks(issuer: Pick<IssuerHandle, "url" | "caPem">): Promise<{ keys: Record<string, unknown>[] }> {
  return new Promise((resolve, reject) => {
    const req = request(`${issuer.url}${PATH_JWKS}`, { ca: issuer.caPem }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as { keys: Record<string, unknown>[] });
        } catch (err) {
          reject(err instanceof Error ? err : new Error("bad JWKS"));
        }
      });
    });
    req.on("error", reject);
    req.end();
  });
}
