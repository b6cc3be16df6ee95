// Reads what who-can decides on from a live cluster: read-only list calls, with the caller's own credentials.

import { CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import {
  API_GROUP,
  API_VERSION,
  RESOURCE_CLUSTER_TOKEN_POLICIES,
  RESOURCE_TOKEN_AUDIENCES,
  RESOURCE_TOKEN_POLICIES,
} from "../../../../api/constants.ts";
import type { GovernedResource } from "../../policy/index.ts";
import { namespaceLabelsOf, type ClusterSnapshot, type Labels } from "../manifests/snapshot.ts";

/**
 * Lists TokenPolicies, ClusterTokenPolicies, TokenAudiences, Namespaces and ServiceAccounts (needs list on each;
 * nothing is written). Namespace labels are the stored ones, which already carry kubernetes.io/metadata.name.
 */
export async function clusterSnapshot(kubeConfig: KubeConfig): Promise<ClusterSnapshot> {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const plural = (p: string): Promise<unknown> => custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: p });
  const [policies, clusterPolicies, audiences, namespaces, accounts] = await Promise.all([
    plural(RESOURCE_TOKEN_POLICIES),
    plural(RESOURCE_CLUSTER_TOKEN_POLICIES),
    plural(RESOURCE_TOKEN_AUDIENCES),
    core.listNamespace(),
    core.listServiceAccountForAllNamespaces(),
  ]);
  const resources = [policies, clusterPolicies, audiences].flatMap((list) => (list as { items?: GovernedResource[] }).items ?? []);
  const labels = new Map<string, Labels>();
  for (const ns of namespaces.items) {
    const name = ns.metadata?.name;
    if (name !== undefined) labels.set(name, namespaceLabelsOf(name, ns.metadata?.labels ?? {}));
  }
  const serviceAccounts = accounts.items.flatMap((sa) =>
    sa.metadata?.name === undefined || sa.metadata.namespace === undefined ? [] : [{ namespace: sa.metadata.namespace, name: sa.metadata.name }],
  );
  return { resources, namespaces: labels, serviceAccounts };
}
