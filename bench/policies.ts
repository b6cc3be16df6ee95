// The TokenPolicy the bench issues under: CEL claims from pod and namespace labels and a CEL condition, like a real team's policy.
import { API_GROUP, API_VERSION, DEFAULT_TESSERA_AUDIENCE, GRANT_TYPE_TOKEN_EXCHANGE, RESOURCE_TOKEN_POLICIES, TOKEN_TYPE_JWT } from "../api/constants.ts";
import { createPod, mintProjectedToken, type KubeClients } from "../test/integration/support/index.ts";
import { mapLimit } from "./concurrency.ts";

export const BENCH_AUDIENCE = "https://payments.internal.example";
export const BENCH_SERVICE_ACCOUNT = "app";

export function benchPolicy(namespace: string, name: string, tierClaim = 'pod.labels["tier"]'): Record<string, unknown> {
  return {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: "TokenPolicy",
    metadata: { name, namespace },
    spec: {
      owner: { team: "bench" },
      subjects: { serviceAccounts: [BENCH_SERVICE_ACCOUNT] },
      audiences: [BENCH_AUDIENCE],
      scopes: { allowed: ["payments.read", "payments.write"], default: ["payments.read"] },
      ttlSeconds: 600,
      claims: [
        { name: "tier", expression: tierClaim },
        { name: "team", expression: 'namespace.labels["team"]' },
      ],
      conditions: [{ name: "labelled", expression: '"tier" in pod.labels', message: "pods need a tier label" }],
    },
  };
}

export async function createPolicy(clients: KubeClients, namespace: string, body: Record<string, unknown>): Promise<void> {
  await clients.custom.createNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: RESOURCE_TOKEN_POLICIES, body });
}

/** Creates `count` pods and one pod-bound projected token each (as the kubelet would); returns the tokens. */
export async function podsWithTokens(clients: KubeClients, namespace: string, count: number, prefix = "app"): Promise<string[]> {
  return mapLimit(Array.from({ length: count }, (_, i) => i), 8, async (i) => {
    const pod = await createPod(namespace, { name: `${prefix}-${i}`, serviceAccountName: BENCH_SERVICE_ACCOUNT, labels: { tier: i % 2 === 0 ? "gold" : "silver" } }, clients);
    return mintProjectedToken({ namespace, serviceAccount: BENCH_SERVICE_ACCOUNT, pod, audience: DEFAULT_TESSERA_AUDIENCE, expirationSeconds: 3600 }, clients);
  });
}

/** The RFC 8693 form a sidecar posts, one per subject token. */
export function exchangeForm(subjectToken: string): string {
  return new URLSearchParams({
    grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
    subject_token: subjectToken,
    subject_token_type: TOKEN_TYPE_JWT,
    audience: BENCH_AUDIENCE,
  }).toString();
}
