// Builds the policy engine's Subject from a verified token, its pod, its namespace, the cluster and the actor chain.
import type { Actor, Subject } from "../../policy/types.ts";
import type { NamespaceInfo, PodInfo } from "./pod-lookup.ts";
import type { ServiceAccountIdentity } from "./service-account-token.ts";

/** The cluster the issuer serves, from configuration. */
export interface ClusterInfo {
  readonly name: string;
  readonly environment: string;
}

export interface SubjectInputs {
  readonly identity: ServiceAccountIdentity;
  /** The pod, already checked against the token's binding. */
  readonly pod: PodInfo;
  readonly namespace: NamespaceInfo;
  readonly cluster: ClusterInfo;
  /** Verified delegation chain, current actor first. */
  readonly actors: readonly Actor[];
}

/** Pure: everything a policy may select on or read, with nothing taken from the request body unverified. */
export function buildSubject(inputs: SubjectInputs): Subject {
  const { identity, pod, namespace, cluster, actors } = inputs;
  return {
    serviceAccount: { namespace: identity.namespace, name: identity.serviceAccount.name, uid: identity.serviceAccount.uid },
    namespace: { name: namespace.name, labels: namespace.labels },
    pod: {
      name: pod.name,
      uid: pod.uid,
      labels: pod.labels,
      annotations: pod.annotations,
      // The node the token was bound to wins over the cache: it is signed by the apiserver.
      ...(identity.node?.name !== undefined
        ? { nodeName: identity.node.name }
        : pod.nodeName === undefined
          ? {}
          : { nodeName: pod.nodeName }),
      ...(pod.owner === undefined ? {} : { owner: pod.owner }),
    },
    cluster: { name: cluster.name, environment: cluster.environment },
    actors,
  };
}

/** The actor a verified projected token of another pod stands for. */
export function actorFromServiceAccount(identity: ServiceAccountIdentity): Actor {
  return {
    sub: identity.subject,
    iss: identity.issuer,
    serviceAccount: { namespace: identity.namespace, name: identity.serviceAccount.name },
  };
}
