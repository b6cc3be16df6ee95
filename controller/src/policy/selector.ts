// Kubernetes label selectors (matchLabels + matchExpressions), validated once and matched many times.

import type { LabelSelector } from "../../../api/token-policy.ts";
import type { CompileError } from "./compile-error.ts";

type Labels = Readonly<Record<string, string>>;

/** A validated selector; `{}` selects everything, as in Kubernetes. */
export interface CompiledSelector {
  matches(labels: Labels): boolean;
}

export type SelectorResult =
  | { readonly ok: true; readonly selector: CompiledSelector }
  | { readonly ok: false; readonly errors: readonly CompileError[] };

type Requirement = (labels: Labels) => boolean;

export function compileSelector(selector: LabelSelector, path: string): SelectorResult {
  const errors: CompileError[] = [];
  const requirements: Requirement[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    requirements.push((labels) => Object.hasOwn(labels, key) && labels[key] === value);
  }
  (selector.matchExpressions ?? []).forEach((expression, i) => {
    const at = `${path}.matchExpressions[${i}]`;
    const { key, operator } = expression;
    const values = new Set(expression.values ?? []);
    const has = (labels: Labels): boolean => Object.hasOwn(labels, key);
    switch (operator) {
      case "In":
      case "NotIn":
        if (values.size === 0) {
          errors.push({ path: `${at}.values`, message: `operator ${operator} needs at least one value` });
          return;
        }
        requirements.push(
          operator === "In"
            ? (labels) => has(labels) && values.has(labels[key] ?? "")
            : (labels) => !has(labels) || !values.has(labels[key] ?? ""),
        );
        return;
      case "Exists":
      case "DoesNotExist":
        if (values.size > 0) {
          errors.push({ path: `${at}.values`, message: `operator ${operator} takes no values` });
          return;
        }
        requirements.push(operator === "Exists" ? has : (labels) => !has(labels));
        return;
      default:
        errors.push({ path: `${at}.operator`, message: `unknown operator '${String(operator)}'` });
    }
  });
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, selector: { matches: (labels) => requirements.every((r) => r(labels)) } };
}

/** A selector that matches everything: what an absent selector means where absence is "no constraint". */
export const EVERYTHING: CompiledSelector = { matches: () => true };

const NOTHING: CompiledSelector = { matches: () => false };

/**
 * A stored selector as one reusable matcher, by the same rule the engine decides with: absent selects everything,
 * and one that does not compile selects nothing (the engine refuses its policy, so it grants nothing to anyone).
 */
export function labelSelectorMatcher(selector: LabelSelector | undefined): CompiledSelector {
  if (selector === undefined) return EVERYTHING;
  const compiled = compileSelector(selector, "selector");
  return compiled.ok ? compiled.selector : NOTHING;
}
