// Builds the Subject vector the engine decides on, from parts each caller has verified or looked up its own way.
//
// The exchange (a verified projected token and its bound pod), explain (a pod read from the cache) and the admission
// preview (a pod not yet stored) all build subjects here, so a field one of them sets is set the same way by all.
import type { Subject } from "./types.ts";

/**
 * The same shape as the Subject, each part from wherever the caller has it (a pod in admission has uid "": the
 * apiserver has not stored it yet, so conditions reading it cannot be judged then); no actors means an empty chain.
 */
export interface SubjectParts {
  readonly serviceAccount: Subject["serviceAccount"];
  readonly namespace: Subject["namespace"];
  readonly pod: Subject["pod"];
  readonly cluster: Subject["cluster"];
  readonly actors?: Subject["actors"];
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
