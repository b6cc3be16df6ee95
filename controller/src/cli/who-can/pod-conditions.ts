// Conditions that read the pod cannot be decided without one: who-can sets them aside and reports them as "if ...".
//
// Without a pod, a CEL condition over pod labels, the pod's owner or its name has no true answer; guessing one way
// would list callers who cannot obtain a token, or hide ones who can. Each such condition is removed from a copy of
// the policies and contracts before they are compiled, and remembered, so an answer reads "can, if <condition>".

import type { LabelSelector, PolicyCondition } from "../../../../api/token-policy.ts";
import type { GovernedResource } from "../../policy/index.ts";
import { isTokenAudience } from "../../policy/index.ts";
import { nameOf } from "../manifests/snapshot.ts";

/** A condition set aside, as it reads in the answer. */
export interface SetAside {
  readonly name: string;
  readonly expression: string;
}

export interface Relaxed {
  /** The resources without their pod conditions. */
  readonly resources: readonly GovernedResource[];
  /** Conditions set aside, by policy name (Kind/ns/name) or contract caller (TokenAudience/ns/name#caller). */
  readonly setAside: ReadonlyMap<string, readonly SetAside[]>;
}

/** Does a CEL expression read the pod variable? String literals and fields named "pod" (x.pod) do not count. */
export function readsPod(expression: string): boolean {
  const withoutStrings = expression.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  return /(?<![.\w])pod\b/.test(withoutStrings);
}

/** Pure: copies of the resources without conditions that read the pod, and those conditions by owner. */
export function relaxPodConditions(resources: readonly GovernedResource[]): Relaxed {
  const setAside = new Map<string, SetAside[]>();
  const keep = (key: string, conditions: readonly PolicyCondition[] | undefined): PolicyCondition[] | undefined => {
    if (conditions === undefined) return undefined;
    const aside = conditions.filter((c) => readsPod(c.expression)).map(({ name, expression }) => ({ name, expression }));
    if (aside.length > 0) setAside.set(key, aside);
    return conditions.filter((c) => !readsPod(c.expression));
  };
  const relaxed = resources.map((resource): GovernedResource => {
    if (isTokenAudience(resource)) {
      const callers = resource.spec.callers.map((caller) => {
        const conditions = keep(`${nameOf(resource)}#${caller.name}`, caller.conditions);
        return conditions === undefined ? caller : { ...caller, conditions };
      });
      return { ...resource, spec: { ...resource.spec, callers } };
    }
    const conditions = keep(nameOf(resource), resource.spec.conditions);
    return conditions === undefined ? resource : ({ ...resource, spec: { ...resource.spec, conditions } } as GovernedResource);
  });
  return { resources: relaxed, setAside };
}

/**
 * Pod labels a selector selects, or undefined when none can (a key both required and excluded). Exists takes the
 * empty value, In its first value; NotIn and DoesNotExist leave the key out.
 */
export function labelsSelectedBy(selector: LabelSelector): Record<string, string> | undefined {
  const labels: Record<string, string> = { ...selector.matchLabels };
  for (const requirement of selector.matchExpressions ?? []) {
    const { key, operator, values = [] } = requirement;
    if (operator === "In" && labels[key] === undefined) {
      const [first] = values;
      if (first === undefined) return undefined;
      labels[key] = first;
    } else if (operator === "Exists" && labels[key] === undefined) {
      labels[key] = "";
    }
  }
  return labels;
}

/** A selector as kubectl writes one: app=web,tier in (a, b),debug,!canary. */
export function describeSelector(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    if (operator === "In") parts.push(`${key} in (${values.join(", ")})`);
    else if (operator === "NotIn") parts.push(`${key} notin (${values.join(", ")})`);
    else if (operator === "Exists") parts.push(key);
    else parts.push(`!${key}`);
  }
  return parts.join(",");
}
