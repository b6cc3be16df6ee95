// Explain without an issuer: read the pod, namespace and policies with a kubeconfig and run the engine locally.

import { CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import {
  API_GROUP,
  API_VERSION,
  RESOURCE_CLUSTER_TOKEN_POLICIES,
  RESOURCE_TOKEN_AUDIENCES,
  RESOURCE_TOKEN_POLICIES,
} from "../../../../api/constants.ts";
import type { GovernedResource } from "../../../../api/token-audience.ts";
import { compilePolicySet, explain, type NamespaceLabels, type PolicySet } from "../../policy/index.ts";
import { Explainer, type ExplainEngine } from "./explainer.ts";
import { apiNamespaceLookup, apiPodLookup } from "../subject/pod-lookup-api.ts";
import type { ClusterInfo } from "../subject/subject.ts";

/** Every TokenPolicy, ClusterTokenPolicy and TokenAudience in the cluster, compiled into a PolicySet (rejected ones kept for denials). */
export async function loadPolicySet(custom: CustomObjectsApi): Promise<PolicySet> {
  const lists = await Promise.all([
    custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: RESOURCE_TOKEN_POLICIES }),
    custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: RESOURCE_CLUSTER_TOKEN_POLICIES }),
    custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: RESOURCE_TOKEN_AUDIENCES }),
  ]);
  return compilePolicySet((lists as { items?: GovernedResource[] }[]).flatMap((list) => list.items ?? [])).set;
}

/** The engine's explain over a fixed PolicySet. */
export function engineOver(policies: PolicySet, namespaceLabels?: NamespaceLabels): ExplainEngine {
  return { explain: (input) => explain({ ...input, policies, ...(namespaceLabels === undefined ? {} : { namespaceLabels }) }) };
}

/** An Explainer that reads everything through `kubeConfig`'s credentials (needs get on pods/namespaces, list on policies). */
export async function localExplainer(kubeConfig: KubeConfig, cluster: ClusterInfo, issuer: string, now: () => Date): Promise<Explainer> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const policies = await loadPolicySet(kubeConfig.makeApiClient(CustomObjectsApi));
  return new Explainer({
    pods: apiPodLookup(core),
    namespaces: apiNamespaceLookup(core),
    engine: engineOver(policies),
    cluster,
    issuer,
    now,
  });
}
