// validateAgainstGuardrails: how a TokenPolicy stands against the guardrails over its namespace.
//
// For the admission webhook (refuse what can never be granted) and status conditions (say what is narrowed).
// "deny" violations are grants the policy can never make (decide would deny them with GuardrailViolation);
// "narrow" ones are limits decide applies silently (TTL clamped, scopes dropped, shorter delegation chain).

import type { CompiledPolicy } from "./compiled-policy.ts";
import { audienceProblem, claimProblem, scopeAllowed } from "./guardrails.ts";
import type { PolicySet } from "./policy-set.ts";

export interface GuardrailViolation {
  readonly path: string;
  readonly message: string;
  readonly effect: "deny" | "narrow";
}

/**
 * Checks a compiled TokenPolicy against the guardrails that apply to its namespace (whose labels the caller
 * knows; guardrails without a namespaceSelector apply whatever they are). ClusterTokenPolicies are the
 * operators' own and are never bound by guardrails: the result is empty for them.
 */
export function validateAgainstGuardrails(
  policy: CompiledPolicy,
  policies: PolicySet,
  namespaceLabels: Readonly<Record<string, string>> = {},
): readonly GuardrailViolation[] {
  const grants = policy.grants;
  if (policy.ref.kind !== "TokenPolicy" || grants === undefined) return [];
  const g = policies.guardrailsFor(namespaceLabels);
  const violations: GuardrailViolation[] = [];
  [...grants.audiences].forEach((audience, i) => {
    const problem = audienceProblem(g, audience);
    if (problem !== undefined) violations.push({ path: `spec.audiences[${i}]`, message: problem, effect: "deny" });
  });
  for (const claim of grants.claims) {
    const problem = claimProblem(g, claim.name);
    if (problem !== undefined) violations.push({ path: `${claim.path}.name`, message: problem, effect: "deny" });
  }
  [...grants.allowedScopes].forEach((scope, i) => {
    if (!scopeAllowed(g, scope)) {
      violations.push({
        path: `spec.scopes.allowed[${i}]`,
        message: `scope '${scope}' is not among the scopes ${g.allowedScopes?.by ?? ""} allow; it is never granted`,
        effect: "narrow",
      });
    }
  });
  if (g.maxTtlSeconds !== undefined && grants.ttlSeconds > g.maxTtlSeconds.value) {
    violations.push({
      path: "spec.ttlSeconds",
      message: `ttl ${grants.ttlSeconds}s is above ${g.maxTtlSeconds.value}s set by ${g.maxTtlSeconds.by}; tokens get ${g.maxTtlSeconds.value}s`,
      effect: "narrow",
    });
  }
  const maxChain = g.maxDelegationChainLength;
  if (grants.delegation !== undefined && maxChain !== undefined && grants.delegation.maxChainLength > maxChain.value) {
    violations.push({
      path: "spec.delegation.maxChainLength",
      message: `chains longer than ${maxChain.value} (set by ${maxChain.by}) are denied`,
      effect: maxChain.value === 0 ? "deny" : "narrow",
    });
  }
  return violations;
}
