// The subject of an exchange, from a verified token, its bound pod, its namespace, the cluster and the actor chain.
import { buildSubject } from "../../policy/subject.ts";
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

/**
 * Pure: the subject of an exchange. Identity comes from the verified token, labels from the bound pod and its
 * namespace; nothing is taken from the request body unverified.
 */
export function subjectFromToken(inputs: SubjectInputs): Subject {
  const { identity, pod, namespace, cluster, actors } = inputs;
  return buildSubject({
    serviceAccount: { namespace: identity.namespace, name: identity.serviceAccount.name, uid: identity.serviceAccount.uid },
    namespace,
    // The node the token was bound to wins over the cache: it is signed by the apiserver.
    pod: identity.node?.name === undefined ? pod : { ...pod, nodeName: identity.node.name },
    cluster,
    actors,
  });
}

/** What the subject of a delegated exchange is built from: the grant's verified claims and its pod, looked up live. */
export interface GrantSubjectInputs {
  readonly serviceAccount: { readonly namespace: string; readonly name: string };
  /** The delegating pod, already checked against the grant's binding. */
  readonly pod: PodInfo;
  readonly namespace: NamespaceInfo;
  readonly cluster: ClusterInfo;
  /** The proven actor first, then the chain the grant carries. */
  readonly actors: readonly Actor[];
}

/** Pure: the subject a delegation grant stands for, with the chain of actors acting for it. */
export function subjectFromGrant(inputs: GrantSubjectInputs): Subject {
  const { serviceAccount, pod, namespace, cluster, actors } = inputs;
  return buildSubject({ serviceAccount, namespace, pod, cluster, actors });
}

/** The actor a verified projected token of another pod stands for. */
export function actorFromServiceAccount(identity: ServiceAccountIdentity): Actor {
  return {
    sub: identity.subject,
    iss: identity.issuer,
    serviceAccount: { namespace: identity.namespace, name: identity.serviceAccount.name },
  };
}
