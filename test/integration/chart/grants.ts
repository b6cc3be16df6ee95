// RBAC rules flattened into one readable grant per (verb, resource, name), so tests compare exact permission sets.
import type { Rendered } from "./chart.ts";

interface PolicyRule {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly nonResourceURLs?: readonly string[];
  readonly verbs: readonly string[];
}

/**
 * "verb group/resource[:name]" per grant ("list pods", "patch tessera.dev/tokenpolicies/status",
 * "get secrets:tessera-signing-keys"), or "verb URL" for non-resource URLs; sorted and deduplicated.
 */
export function grantsOf(role: Rendered): string[] {
  const rules = (role["rules"] ?? []) as readonly PolicyRule[];
  const grants = new Set<string>();
  for (const rule of rules) {
    for (const verb of rule.verbs) {
      for (const url of rule.nonResourceURLs ?? []) grants.add(`${verb} ${url}`);
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          const base = `${verb} ${group === "" ? "" : `${group}/`}${resource}`;
          const names = rule.resourceNames ?? [];
          if (names.length === 0) grants.add(base);
          for (const name of names) grants.add(`${base}:${name}`);
        }
      }
    }
  }
  return [...grants].sort();
}
