// Starts a real issuer against the shared control plane (Secret key store, apiserver pod reads, the policy engine).
import { randomUUID } from "node:crypto";
import { request } from "node:https";
import { pino } from "pino";
import type { AnyTokenPolicy } from "../../../api/token-policy.ts";
import { DEFAULT_TESSERA_AUDIENCE } from "../../../api/constants.ts";
import { composeIssuer } from "../../../controller/src/app/compose-issuer.ts";
import { createHttpsJsonFetcher } from "../../../controller/src/issuer/subject/fetch-json.ts";
import type { Issuer, IssuerConfig } from "../../../controller/src/issuer/issuer.ts";
import type { IssuerMetrics } from "../../../controller/src/issuer/metrics.ts";
import { SecretKeyStore } from "../../../controller/src/issuer/keys/key-store.ts";
import type { SigningAlgorithm } from "../../../controller/src/issuer/keys/keys.ts";
import { apiNamespaceLookup, apiPodLookup } from "../../../controller/src/issuer/subject/pod-lookup-api.ts";
import { clientNodeTokenReviewer, type TokenReviewer } from "../../../controller/src/issuer/subject/token-review-verifier.ts";
import { compilePolicySet, type Decision, type PolicySet } from "../../../controller/src/policy/index.ts";
import { OPEN_EVERY_AUDIENCE } from "../support/crds.ts";
import { generatePki } from "../../controlplane/pki.ts";
import { freeLoopbackPort } from "../../controlplane/ports.ts";
import { controlPlaneInfo, freshNamespace, kubeClients } from "../support/index.ts";

export interface TestIssuer {
  readonly issuer: Issuer;
  readonly url: string;
  /** CA of the issuer's serving certificate. */
  readonly caPem: string;
  /** Namespace holding the signing-keys Secret. */
  readonly namespace: string;
  /** Every decision recorded, in order. */
  readonly decisions: { readonly decision: Decision; readonly jti?: string }[];
  /** Moves the issuer's clock (tokens it verifies and mints) by this many ms from real time. */
  setClockOffset(ms: number): void;
  setPolicies(policies: readonly AnyTokenPolicy[]): void;
  stop(): Promise<void>;
}

export interface TestIssuerOptions {
  readonly policies: readonly AnyTokenPolicy[];
  readonly algorithm?: SigningAlgorithm;
  readonly subjectVerification?: IssuerConfig["subjectVerification"];
  /** Reuse a key namespace (a second replica of the same issuer). */
  readonly namespace?: string;
  readonly isLeader?: boolean;
  /** Issuer metrics the exchanges are timed into. */
  readonly metrics?: IssuerMetrics;
  /** Asks TokenReviews here instead of the admin client (e.g. through a proxy that can stop answering). */
  readonly tokenReviewer?: TokenReviewer;
  /** Exchanges per pod (none: unlimited). */
  readonly exchangeRate?: IssuerConfig["exchangeRate"];
}

/** The test's policies, with OPEN_EVERY_AUDIENCE (support/crds.ts says why) so their made-up audiences have an owner. */
function compileAll(policies: readonly AnyTokenPolicy[]): PolicySet {
  const { set, results } = compilePolicySet([...policies, OPEN_EVERY_AUDIENCE]);
  results.forEach((result, i) => {
    if (!result.ok) throw new Error(`test policy ${policies[i]?.metadata.name ?? "?"} does not compile: ${JSON.stringify(result.errors)}`);
  });
  return set;
}

export async function startTestIssuer(options: TestIssuerOptions): Promise<TestIssuer> {
  const info = controlPlaneInfo();
  const clients = kubeClients();
  const namespace = options.namespace ?? (await freshNamespace("tessera"));
  const pki = await generatePki(new Date());
  const port = await freeLoopbackPort();
  const url = `https://127.0.0.1:${port}`;
  let offset = 0;
  let policies = compileAll(options.policies);
  const decisions: { decision: Decision; jti?: string }[] = [];
  const tls = { cert: pki.serving.certPem, key: pki.serving.keyPem };
  const issuer = composeIssuer({
    config: {
      issuerUrl: url,
      audience: DEFAULT_TESSERA_AUDIENCE,
      cluster: { name: "test-cluster", environment: "test" },
      serviceAccountIssuer: info.serviceAccountIssuer,
      subjectVerification: options.subjectVerification ?? "jwks",
      leewaySeconds: 30,
      maxSubjectTokenAgeSeconds: 86_400,
      jwksMaxAgeSeconds: 60,
      signing: {
        algorithm: options.algorithm ?? "ES256",
        rotationSeconds: 86_400,
        prePublicationSeconds: 120,
        maxTokenTtlSeconds: 3600,
        reloadSeconds: 30,
      },
      ...(options.exchangeRate === undefined ? {} : { exchangeRate: options.exchangeRate }),
    },
    policies: () => policies,
    fetchJson: createHttpsJsonFetcher({ ca: info.caPem }),
    tokenReviewer: options.tokenReviewer ?? clientNodeTokenReviewer(clients.auth),
    pods: apiPodLookup(clients.core),
    namespaces: apiNamespaceLookup(clients.core),
    recorders: [{ record: (decision, outcome) => decisions.push({ decision, ...outcome }) }],
    keyStore: new SecretKeyStore(clients.core, namespace),
    isLeader: () => options.isLeader ?? true,
    tls: () => tls,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    logger: pino({ level: "silent" }),
    now: () => new Date(Date.now() + offset),
    newId: randomUUID,
  });
  await issuer.start(port, "127.0.0.1");
  return {
    issuer,
    url,
    caPem: pki.ca.certPem,
    namespace,
    decisions,
    setClockOffset(ms) {
      offset = ms;
    },
    setPolicies(next) {
      policies = compileAll(next);
    },
    stop: () => issuer.stop(),
  };
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
}

/** One HTTPS request to the issuer, trusting only its CA. */
export function call(
  issuer: Pick<TestIssuer, "url" | "caPem">,
  path: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${issuer.url}${path}`,
      { method: init.method ?? "GET", ca: issuer.caPem, headers: init.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: unknown = text;
          try {
            body = text === "" ? undefined : JSON.parse(text);
          } catch {
            // Not JSON: keep the text.
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}

/** POSTs a token-exchange form, with any extra headers (a DPoP proof). */
export function exchange(
  issuer: Pick<TestIssuer, "url" | "caPem">,
  params: Record<string, string | readonly string[]>,
  headers: Readonly<Record<string, string>> = {},
): Promise<HttpAnswer> {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of typeof value === "string" ? [value] : value) form.append(key, v);
  }
  return call(issuer, "/v1/token", {
    method: "POST",
    body: form.toString(),
    headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
  });
}
