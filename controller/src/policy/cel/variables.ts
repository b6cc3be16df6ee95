// The variables every policy expression sees, declared with their types, and their values for one subject.

import { celMap } from "@bufbuild/cel";
import type { Subject, TokenRequest } from "../types.ts";
import { inputProblems } from "./input-bounds.ts";
import { INPUT_BOUNDS as B } from "./limits.ts";
import { NAMESPACE_VARIABLE } from "./reserved-names.ts";
import { listOf, mapOf, objectOf, str, type Sz } from "./sizes.ts";
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

const labelSizes = mapOf(B.mapEntries, str(B.keyChars), str(B.labelValueChars));
const serviceAccountSizes = objectOf({ namespace: str(B.nameChars), name: str(B.nameChars) });

/** The largest value of each variable expressions may read (limits.ts); the static cost estimate assumes these. */
export const VARIABLE_SIZES: ReadonlyMap<string, Sz> = new Map<string, Sz>([
  ["serviceAccount", serviceAccountSizes],
  [NAMESPACE_VARIABLE, objectOf({ name: str(B.nameChars), labels: labelSizes })],
  [
    "pod",
    objectOf({
      name: str(B.nameChars),
      uid: str(B.nameChars),
      labels: labelSizes,
      annotations: mapOf(B.mapEntries, str(B.keyChars), str(B.annotationValueChars)),
      nodeName: str(B.nameChars),
      owner: objectOf({ apiVersion: str(B.apiVersionChars), kind: str(B.apiVersionChars), name: str(B.nameChars) }),
    }),
  ],
  ["cluster", objectOf({ name: str(B.nameChars), environment: str(B.nameChars) })],
  [
    "actors",
    listOf(B.actors, objectOf({ sub: str(B.actorChars), iss: str(B.actorChars), serviceAccount: serviceAccountSizes })),
  ],
  [
    "request",
    objectOf({ audiences: listOf(B.audiences, str(B.audienceChars)), scopes: listOf(B.scopes, str(B.scopeChars)) }),
  ],
]);

/** Plain values the evaluator reads as CEL maps and lists; optional fields are left out when absent. */
export type Bindings = Readonly<Record<string, unknown>>;

/**
 * Where bindingsFor leaves the inputs beyond their bounds (input-bounds.ts), found once per decision; a name no
 * expression can spell. Bindings without it are checked at each evaluation instead.
 */
export const INPUT_PROBLEMS = "@tessera.inputProblems";

/**
 * The subject and request as expression variables. Labels and annotations within their bounds become CEL maps
 * here, once per decision: the evaluator would otherwise rebuild a map from the object at every access.
 */
export function bindingsFor(subject: Subject, request: TokenRequest): Bindings {
  const values = plainBindings(subject, request);
  const problems = inputProblems(values, VARIABLE_SIZES);
  const unreadable = new Set(problems.map((p) => p.path));
  const asMap = (path: string, value: Readonly<Record<string, string>>): unknown =>
    unreadable.has(path) ? value : celMap(new Map(Object.entries(value)));
  const pod = values["pod"] as Record<string, unknown>;
  const namespace = values[NAMESPACE_VARIABLE] as Record<string, unknown>;
  return {
    ...values,
    [NAMESPACE_VARIABLE]: { ...namespace, labels: asMap(`${NAMESPACE_VARIABLE}.labels`, subject.namespace.labels) },
    pod: {
      ...pod,
      labels: asMap("pod.labels", subject.pod.labels),
      annotations: asMap("pod.annotations", subject.pod.annotations),
    },
    [INPUT_PROBLEMS]: problems,
  };
}

function plainBindings(subject: Subject, request: TokenRequest): Record<string, unknown> {
  const { pod } = subject;
  return {
    serviceAccount: { namespace: subject.serviceAccount.namespace, name: subject.serviceAccount.name },
    [NAMESPACE_VARIABLE]: { name: subject.namespace.name, labels: subject.namespace.labels },
    pod: {
      name: pod.name,
      uid: pod.uid,
      // Not copied: the subject is read-only, and a copy of 20,000 annotations costs milliseconds per decision.
      labels: pod.labels,
      annotations: pod.annotations,
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
