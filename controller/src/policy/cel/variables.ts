// The variables every policy expression sees, declared with their types, and their values for one subject.

import type { Subject, TokenRequest } from "../types.ts";
import { NAMESPACE_VARIABLE } from "./reserved-names.ts";
import { T, list, map, object, optional, type CelT } from "./types.ts";

const labels = map(T.string, T.string);
const serviceAccountRef = object("tessera.ServiceAccount", { namespace: T.string, name: T.string });

/** Declared types of the expression variables (the cross-area contract in docs/policy.md). */
export const VARIABLES: ReadonlyMap<string, CelT> = new Map<string, CelT>([
  ["serviceAccount", serviceAccountRef],
  [NAMESPACE_VARIABLE, object("tessera.Namespace", { name: T.string, labels })],
  [
    "pod",
    object("tessera.Pod", {
      name: T.string,
      uid: T.string,
      labels,
      annotations: labels,
      nodeName: optional(T.string),
      owner: optional(object("tessera.PodOwner", { apiVersion: T.string, kind: T.string, name: T.string })),
    }),
  ],
  ["cluster", object("tessera.Cluster", { name: T.string, environment: T.string })],
  [
    "actors",
    list(object("tessera.Actor", { sub: T.string, iss: T.string, serviceAccount: optional(serviceAccountRef) })),
  ],
  ["request", object("tessera.Request", { audiences: list(T.string), scopes: list(T.string) })],
]);

/** Plain values the evaluator reads as CEL maps and lists; optional fields are left out when absent. */
export type Bindings = Readonly<Record<string, unknown>>;

/** The subject and request as expression variables. */
export function bindingsFor(subject: Subject, request: TokenRequest): Bindings {
  const { pod } = subject;
  return {
    serviceAccount: { namespace: subject.serviceAccount.namespace, name: subject.serviceAccount.name },
    [NAMESPACE_VARIABLE]: { name: subject.namespace.name, labels: { ...subject.namespace.labels } },
    pod: {
      name: pod.name,
      uid: pod.uid,
      labels: { ...pod.labels },
      annotations: { ...pod.annotations },
      ...(pod.nodeName === undefined ? {} : { nodeName: pod.nodeName }),
      ...(pod.owner === undefined ? {} : { owner: { apiVersion: pod.owner.apiVersion, kind: pod.owner.kind, name: pod.owner.name } }),
    },
    cluster: { name: subject.cluster.name, environment: subject.cluster.environment },
    actors: subject.actors.map((actor) => ({
      sub: actor.sub,
      iss: actor.iss,
      ...(actor.serviceAccount === undefined
        ? {}
        : { serviceAccount: { namespace: actor.serviceAccount.namespace, name: actor.serviceAccount.name } }),
    })),
    request: { audiences: [...request.audiences], scopes: [...request.scopes] },
  };
}
