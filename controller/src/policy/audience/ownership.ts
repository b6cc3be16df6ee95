// Who owns an audience: the operator's ownership rules, then a Service URL's own namespace; nobody otherwise.
//
// The most specific rule decides, so an operator can open a whole host and still give one path to a team:
// exact > prefix (longest first) > host > wildcard host (longest first) > in-cluster Service URL > allAudiences.
// Two rules of equal specificity that disagree are a conflict, and a conflict owns nothing (deny by default).

import type { AudienceOwnershipRule } from "../../../../api/token-audience.ts";
import type { CompileError } from "../compile-error.ts";
import { compileSelector, type CompiledSelector } from "../selector.ts";
import { audienceHost, audienceSpellingProblem, serviceUrlNamespace } from "./canonical.ts";

/** How an audience is owned, with the rule (as "ClusterTokenPolicy/name") that says so. */
export type Ownership =
  | { readonly kind: "Namespaces"; readonly selector: CompiledSelector; readonly by: string }
  | { readonly kind: "Service"; readonly namespace: string }
  | { readonly kind: "Cluster"; readonly by: string }
  | { readonly kind: "Open"; readonly by: string }
  | { readonly kind: "Unowned" }
  | { readonly kind: "Conflict"; readonly by: readonly [string, string] };

/** A compiled rule: what it covers and what it says. */
export interface CompiledOwnershipRule {
  readonly by: string;
  readonly ownedBy: AudienceOwnershipRule["ownedBy"];
  /** Identity of the outcome, so two rules saying the same thing never conflict. */
  readonly outcomeKey: string;
  readonly selector?: CompiledSelector;
  readonly exact: ReadonlySet<string>;
  readonly prefixes: readonly string[];
  readonly hosts: ReadonlySet<string>;
  /** Wildcard host suffixes, each starting with ".". */
  readonly hostSuffixes: readonly string[];
  readonly allAudiences: boolean;
}

const OWNED_BY = new Set(["Namespaces", "Cluster", "Open"]);

/** Compiles one rule at `path`; problems go to `errors`. */
export function compileOwnershipRule(
  rule: AudienceOwnershipRule,
  path: string,
  by: string,
  errors: CompileError[],
): CompiledOwnershipRule {
  const forms = [rule.audiences, rule.prefixes, rule.hosts].filter((f) => f !== undefined).length + (rule.allAudiences === true ? 1 : 0);
  if (forms !== 1) errors.push({ path, message: "set exactly one of audiences, prefixes, hosts and allAudiences" });
  if (!OWNED_BY.has(rule.ownedBy)) errors.push({ path: `${path}.ownedBy`, message: "ownedBy is Namespaces, Cluster or Open" });
  let selector: CompiledSelector | undefined;
  if (rule.ownedBy === "Namespaces") {
    if (rule.namespaceSelector === undefined) {
      errors.push({ path: `${path}.namespaceSelector`, message: "required when ownedBy is Namespaces" });
    } else {
      const compiled = compileSelector(rule.namespaceSelector, `${path}.namespaceSelector`);
      if (compiled.ok) selector = compiled.selector;
      else errors.push(...compiled.errors);
    }
  } else if (rule.namespaceSelector !== undefined) {
    errors.push({ path: `${path}.namespaceSelector`, message: "only meaningful when ownedBy is Namespaces" });
  }
  (rule.audiences ?? []).forEach((audience, i) => {
    const problem = audienceSpellingProblem(audience);
    if (problem !== undefined) errors.push({ path: `${path}.audiences[${i}]`, message: problem });
  });
  (rule.prefixes ?? []).forEach((prefix, i) => {
    const at = `${path}.prefixes[${i}]`;
    if (!prefix.endsWith("/")) {
      errors.push({ path: at, message: `prefix '${prefix}' must end with "/" so it cannot cover another host or path` });
      return;
    }
    const problem = audienceSpellingProblem(prefix.slice(0, -1));
    if (problem !== undefined) errors.push({ path: at, message: problem });
  });
  const hostSuffixes: string[] = [];
  const hosts = new Set<string>();
  (rule.hosts ?? []).forEach((host, i) => {
    const bare = host.startsWith("*.") ? host.slice(2) : host;
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(bare)) {
      errors.push({ path: `${path}.hosts[${i}]`, message: `'${host}' is not a lower-case host name (optionally "*." and a name)` });
    } else if (host.startsWith("*.")) {
      hostSuffixes.push(`.${bare}`);
    } else {
      hosts.add(host);
    }
  });
  return {
    by,
    ownedBy: rule.ownedBy,
    outcomeKey: rule.ownedBy === "Namespaces" ? `Namespaces:${JSON.stringify(rule.namespaceSelector ?? {})}` : rule.ownedBy,
    ...(selector === undefined ? {} : { selector }),
    exact: new Set(rule.audiences ?? []),
    prefixes: rule.prefixes ?? [],
    hosts,
    hostSuffixes,
    allAudiences: rule.allAudiences === true,
  };
}

/** How specific a rule's hold on an audience is; undefined when it does not cover it. Higher wins. */
function specificity(rule: CompiledOwnershipRule, audience: string, host: string | undefined): number | undefined {
  if (rule.exact.has(audience)) return 4_000_000;
  let best: number | undefined;
  for (const prefix of rule.prefixes) {
    if (audience === prefix.slice(0, -1) || audience.startsWith(prefix)) best = Math.max(best ?? 0, 3_000_000 + prefix.length);
  }
  if (best !== undefined) return best;
  if (host !== undefined) {
    if (rule.hosts.has(host)) return 2_000_000;
    for (const suffix of rule.hostSuffixes) {
      if (host.endsWith(suffix)) best = Math.max(best ?? 0, 1_000_000 + suffix.length);
    }
    if (best !== undefined) return best;
  }
  return rule.allAudiences ? 0 : undefined;
}

/** Specificity of a Service URL's implicit owner: above allAudiences, below every explicit rule naming it. */
const SERVICE_SPECIFICITY = 500_000;

/** Who owns a canonical audience under these rules. */
export function resolveOwnership(rules: readonly CompiledOwnershipRule[], audience: string): Ownership {
  const host = audienceHost(audience);
  let best: { rule: CompiledOwnershipRule; at: number } | undefined;
  let rival: CompiledOwnershipRule | undefined;
  for (const rule of rules) {
    const at = specificity(rule, audience, host);
    if (at === undefined) continue;
    if (best === undefined || at > best.at) {
      best = { rule, at };
      rival = undefined;
    } else if (at === best.at && rule.outcomeKey !== best.rule.outcomeKey) {
      rival ??= rule;
    }
  }
  const serviceNamespace = serviceUrlNamespace(audience);
  if (serviceNamespace !== undefined && (best === undefined || best.at < SERVICE_SPECIFICITY)) {
    return { kind: "Service", namespace: serviceNamespace };
  }
  if (best === undefined) return { kind: "Unowned" };
  if (rival !== undefined) return { kind: "Conflict", by: [best.rule.by, rival.by] };
  const { rule } = best;
  switch (rule.ownedBy) {
    case "Namespaces":
      // A rule without a compiled selector never compiles, so it never reaches here; refuse rather than assume.
      return rule.selector === undefined ? { kind: "Unowned" } : { kind: "Namespaces", selector: rule.selector, by: rule.by };
    case "Cluster":
      return { kind: "Cluster", by: rule.by };
    case "Open":
      return { kind: "Open", by: rule.by };
  }
}
