// A real issuer with its audit half mounted (decision log, metrics, Events, revocation, introspection, explain) on the shared control plane.

import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { pino } from "pino";
import { Registry } from "prom-client";
import { API_GROUP, API_VERSION, DEFAULT_TESSERA_AUDIENCE, RESOURCE_TOKEN_POLICIES } from "../../../api/constants.ts";
import type { TokenPolicy } from "../../../api/token-policy.ts";
import { CallerAuthenticator } from "../../../controller/src/issuer/audit/caller-auth.ts";
import { DecisionLog } from "../../../controller/src/issuer/record/decision-log.ts";
import { DenialEventRecorder, KubernetesEventSink } from "../../../controller/src/issuer/record/denial-events.ts";
import { loadPolicySet } from "../../../controller/src/issuer/explain/local.ts";
import { createHttpsJsonFetcher } from "../../../controller/src/issuer/subject/fetch-json.ts";
import { apiPolicyLookup } from "../../../controller/src/issuer/audit/policy-lookup-api.ts";
import { composeIssuer } from "../../../controller/src/app/compose-issuer.ts";
import type { Issuer } from "../../../controller/src/issuer/issuer.ts";
import { SecretKeyStore } from "../../../controller/src/issuer/keys/key-store.ts";
import { IssuerMetrics } from "../../../controller/src/issuer/metrics.ts";
import { apiNamespaceLookup, apiPodLookup } from "../../../controller/src/issuer/subject/pod-lookup-api.ts";
import { RevocationStore } from "../../../controller/src/issuer/audit/revocation.ts";
import { clientNodeTokenReviewer } from "../../../controller/src/issuer/subject/token-review-verifier.ts";
import { PolicySet } from "../../../controller/src/policy/index.ts";
import { generatePki } from "../../controlplane/pki.ts";
import { freeLoopbackPort } from "../../controlplane/ports.ts";
import { applyCrds, controlPlaneInfo, createPod, createServiceAccount, freshNamespace, kubeClients, mintProjectedToken, waitFor } from "../support/index.ts";

export interface AuditIssuer {
  readonly issuer: Issuer;
  readonly url: string;
  readonly caPem: string;
  /** Tessera's namespace: signing keys Secret, revocation ConfigMap, the auditor service account. */
  readonly namespace: string;
  /** A projected token of the allowlisted auditor, for Authorization: Bearer. */
  readonly auditorToken: string;
  readonly registry: Registry;
  readonly events: DenialEventRecorder;
  readonly revocations: RevocationStore;
  /** Everything every logger of this issuer wrote. */
  logText(): string;
  /** Re-reads TokenPolicies from the apiserver into the engine (the controller's informer does this in production). */
  reloadPolicies(): Promise<void>;
  stop(): Promise<void>;
}

/** Creates the TokenPolicy in the apiserver (the CRDs are applied first). */
export async function createTokenPolicy(policy: TokenPolicy): Promise<void> {
  await kubeClients().custom.createNamespacedCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    plural: RESOURCE_TOKEN_POLICIES,
    namespace: policy.metadata.namespace ?? "",
    body: policy,
  });
}

export async function startAuditIssuer(): Promise<AuditIssuer> {
  const info = controlPlaneInfo();
  const clients = kubeClients();
  await applyCrds(clients);
  const namespace = await freshNamespace("tessera");
  await createServiceAccount(namespace, "auditor", clients);
  const auditorPod = await createPod(namespace, { name: "auditor-0", serviceAccountName: "auditor" }, clients);
  const auditorToken = await mintProjectedToken({ namespace, serviceAccount: "auditor", pod: auditorPod, audience: DEFAULT_TESSERA_AUDIENCE }, clients);

  const chunks: string[] = [];
  const logger = pino(
    { level: "debug" },
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString("utf8"));
        callback();
      },
    }),
  );
  const now = (): Date => new Date();
  const pki = await generatePki(new Date());
  const port = await freeLoopbackPort();
  const url = `https://127.0.0.1:${port}`;
  const registry = new Registry();
  const metrics = new IssuerMetrics({ registry });
  const events = new DenialEventRecorder({ sink: new KubernetesEventSink({ core: clients.core, instance: "test-replica" }), logger, now });
  const revocations = new RevocationStore({ core: clients.core, namespace, logger, now });
  await revocations.reload();
  const stopReloading = revocations.startReloading(1000);
  let policies: PolicySet = PolicySet.from([]);
  // Right after the CRDs are Established the apiserver may still answer 429 "storage is (re)initializing": retry.
  const reloadPolicies = async (): Promise<void> => {
    policies = await waitFor(() => loadPolicySet(clients.custom), { description: "TokenPolicies listable" });
  };
  await reloadPolicies();
  const pods = apiPodLookup(clients.core);
  const namespaces = apiNamespaceLookup(clients.core);
  const auth = new CallerAuthenticator({
    reviewer: clientNodeTokenReviewer(clients.auth),
    audience: DEFAULT_TESSERA_AUDIENCE,
    allowlist: { introspect: [`${namespace}/auditor`], revoke: [`${namespace}/auditor`], explain: [`${namespace}/auditor`] },
    now,
  });
  const cluster = { name: "test-cluster", environment: "test" };
  const tls = { cert: pki.serving.certPem, key: pki.serving.keyPem };
  const issuer = composeIssuer({
    config: {
      issuerUrl: url,
      audience: DEFAULT_TESSERA_AUDIENCE,
      cluster,
      serviceAccountIssuer: info.serviceAccountIssuer,
      subjectVerification: "jwks",
      leewaySeconds: 30,
      maxSubjectTokenAgeSeconds: 86_400,
      jwksMaxAgeSeconds: 60,
      signing: { algorithm: "ES256", rotationSeconds: 86_400, prePublicationSeconds: 120, maxTokenTtlSeconds: 3600, reloadSeconds: 30 },
    },
    policies: () => policies,
    fetchJson: createHttpsJsonFetcher({ ca: info.caPem }),
    pods,
    namespaces,
    recorders: [new DecisionLog({ logger }), metrics, events],
    audit: { auth, revocations, policies: apiPolicyLookup(clients.custom), metrics },
    keyStore: new SecretKeyStore(clients.core, namespace),
    isLeader: () => true,
    tls: () => tls,
    logger,
    now,
    newId: randomUUID,
  });
  await issuer.start(port, "127.0.0.1");
  return {
    issuer,
    url,
    caPem: pki.ca.certPem,
    namespace,
    auditorToken,
    registry,
    events,
    revocations,
    logText: () => chunks.join(""),
    reloadPolicies,
    async stop() {
      stopReloading();
      await events.flush();
      await issuer.stop();
    },
  };
}
