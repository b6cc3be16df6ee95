// Builds the Subject vector the engine decides on, from parts each caller has verified or looked up its own way.
//
// The exchange (a verified projected token and its bound pod), explain (a pod read from the cache) and the admission
// preview (a pod not yet stored) all build subjects here, so a field one of them sets is set the same way by all.
import type { Actor, Subject } from "./types.ts";

export interface SubjectParts {
  readonly serviceAccount: { readonly namespace: string; readonly name: string; readonly uid?: string };
  readonly namespace: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  readonly pod: {
    readonly name: string;
    /** "" before the apiserver has stored the pod (admission): conditions reading it cannot be judged then. */
    readonly uid: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
    readonly nodeName?: string;
    readonly owner?: { readonly apiVersion: string; readonly kind: string; readonly name: string };
  };
  readonly cluster: { readonly name: string; readonly environment: string };
  /** Verified delegation chain, current actor first; none when nobody acts for the subject. */
  readonly actors?: readonly Actor[];
}

/** Pure: copies exactly the fields a policy may select on or read, and nothing else a caller's objects carry. */
export function buildSubject(parts: SubjectParts): Subject {
  const { serviceAccount, namespace, pod, cluster } = parts;
  return {
    serviceAccount: {
      namespace: serviceAccount.namespace,
      name: serviceAccount.name,
      ...(serviceAccount.uid === undefined ? {} : { uid: serviceAccount.uid }),
    },
    namespace: { name: namespace.name, labels: namespace.labels },
    pod: {
      name: pod.name,
      uid: pod.uid,
      labels: pod.labels,
      annotations: pod.annotations,
      ...(pod.nodeName === undefined ? {} : { nodeName: pod.nodeName }),
      ...(pod.owner === undefined ? {} : { owner: pod.owner }),
    },
    cluster: { name: cluster.name, environment: cluster.environment },
    actors: parts.actors ?? [],
  };
}
