// What the node tier's end-to-end tests set up as a user would: a namespace opted into injection, its audience
// opened by the operator, a ServiceAccount and the team's TokenPolicy; and reading a pod's Ready condition.
import type { V1Pod, V1ServiceAccount } from "@kubernetes/client-node";
import {
  API_GROUP,
  API_VERSION,
  INJECT_ENABLED,
  LABEL_NAMESPACE_INJECT,
  RESOURCE_CLUSTER_TOKEN_POLICIES,
  RESOURCE_TOKEN_POLICIES,
} from "../../api/constants.ts";
import { kubeBody } from "../controlplane/plain.ts";
import type { KubeClients } from "../integration/support/control-plane.ts";
import { freshNamespace } from "../integration/support/namespaces.ts";

export const WORKLOAD_SERVICE_ACCOUNT = "orders";
export const WORKLOAD_POLICY = "orders";

/** The TokenPolicy's spec: the workload's ServiceAccount may hold tokens for `audience`, with `claims` if given. */
export function policySpec(audience: string, claims: readonly { name: string; expression: string }[] = []): Record<string, unknown> {
  return {
    owner: { team: "orders" },
    subjects: { serviceAccounts: [WORKLOAD_SERVICE_ACCOUNT] },
    audiences: [audience],
    ...(claims.length > 0 ? { claims } : {}),
  };
}

/** Creates an opted-in namespace with everything a workload asking for `audience` needs; returns its name. */
export async function optedInNamespace(clients: KubeClients, prefix: string, audience: string): Promise<string> {
  const namespace = await freshNamespace(prefix, { [LABEL_NAMESPACE_INJECT]: INJECT_ENABLED });
  // The operator's part: an external API's audience nobody in the cluster owns is open to policies.
  await clients.custom.createClusterCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    plural: RESOURCE_CLUSTER_TOKEN_POLICIES,
    body: {
      apiVersion: `${API_GROUP}/${API_VERSION}`,
      kind: "ClusterTokenPolicy",
      metadata: { name: `${namespace}-audiences` },
      spec: { owner: { team: "platform" }, audienceOwnership: [{ audiences: [audience], ownedBy: "Open" }] },
    },
  });
  await clients.core.createNamespacedServiceAccount({
    namespace,
    body: kubeBody<V1ServiceAccount>({ metadata: { name: WORKLOAD_SERVICE_ACCOUNT, namespace } }),
  });
  await clients.custom.createNamespacedCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    namespace,
    plural: RESOURCE_TOKEN_POLICIES,
    body: {
      apiVersion: `${API_GROUP}/${API_VERSION}`,
      kind: "TokenPolicy",
      metadata: { name: WORKLOAD_POLICY, namespace },
      spec: policySpec(audience),
    },
  });
  return namespace;
}

export function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
}

/** The claims of a JWT, decoded without verifying (the tests verify separately where it matters). */
export function jwtClaims(token: string): Record<string, unknown> {
  const payload = token.split(".")[1] ?? "";
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
}
