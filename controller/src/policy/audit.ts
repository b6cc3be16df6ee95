// Audit mode: which audited rules could apply to a request, and what one of them would have changed.
//
// The decision itself is made as if every audited rule did not exist. For each audited rule listed here, decide
// asks the same question again with that rule enforced (decide.ts); auditRecord compares the two answers. So an
// audited rule can never change what is issued, and its record says exactly what enforcing it would change (other
// audited rules staying audited).

import type { CompiledPolicy } from "./compiled-policy.ts";
import type { CompiledContract } from "./audience/contract.ts";
import { canonicalAudience } from "./audience/canonical.ts";
import { resourceRuleKey, WHOLE_RESOURCE_RULE, type AuditedCondition } from "./enforcement.ts";
import { selects } from "./match.ts";
import type { PolicySet } from "./policy-set.ts";
import { formatRef } from "./refs.ts";
import type { AuditRecord, AuditedRuleRef, Decision, Grant, Subject, TokenRequest } from "./types.ts";

/**
 * At most this many audited rules are decided again per request; later ones are recorded as unevaluated. Each
 * costs one more decision (with its own CEL budget), and a team could write any number of audited policies.
 */
export const MAX_AUDITED_RULES_PER_DECISION = 8;

export interface AuditedRule {
  /** The key decide passes as asEnforced. */
  readonly key: string;
  readonly ref: AuditedRuleRef;
}

/** The request as decide sees it (canonical audiences, no repeats), or undefined when decide denies it outright. */
export function canonicalRequest(request: TokenRequest): TokenRequest | undefined {
  const audiences: string[] = [];
  for (const raw of request.audiences) {
    const canonical = canonicalAudience(raw);
    if (!canonical.ok) return undefined;
    audiences.push(canonical.audience);
  }
  return { audiences: [...new Set(audiences)], scopes: [...new Set(request.scopes)] };
}

/**
 * Every audited rule whose enforcement could change this request's decision, in a fixed order: the operators'
 * guardrails, then granting policies (and audited conditions of enforced ones) in precedence order, then the
 * owners' contracts (and their audited caller conditions). A rule left out here provably changes nothing: a
 * guardrail that does not select the namespace, a policy that does not select the subject, a contract for
 * another audience.
 */
export function auditedRulesFor(set: PolicySet, subject: Subject, request: TokenRequest): readonly AuditedRule[] {
  const rules = new Map<string, AuditedRule>();
  const add = (rule: AuditedRule): void => {
    if (!rules.has(rule.key)) rules.set(rule.key, rule);
  };
  for (const policy of set.allGuardrails()) {
    if (policy.audited === true && policy.guardrails?.namespaceSelector.matches(subject.namespace.labels) === true) add(wholePolicy(policy));
  }
  for (const policy of set.allCandidates(subject.namespace.name)) {
    if (policy.audited === true) {
      if (couldTakePart(policy, subject, request)) add(wholePolicy(policy));
    } else if (couldBeChosen(policy, subject, request)) {
      for (const condition of policy.grants?.conditions ?? []) {
        if (condition.audit !== undefined) add(conditionRule(policy.ref, condition.audit));
      }
    }
  }
  for (const audience of request.audiences) {
    for (const contract of set.allContractsFor(audience)) {
      if (contract.audited === true) {
        add({ key: resourceRuleKey(contract.ref), ref: { ...contractRef(contract), rule: WHOLE_RESOURCE_RULE } });
        continue;
      }
      for (const caller of contract.callers) {
        for (const condition of caller.conditions) {
          if (condition.audit !== undefined) add({ key: condition.audit.key, ref: { ...contractRef(contract), rule: condition.audit.rule } });
        }
      }
    }
  }
  return [...rules.values()];
}

/** Compares the decision made with the decision the rule would have made enforced. */
export function auditRecord(rule: AuditedRule, actual: Decision, enforced: Decision): AuditRecord {
  const ref = rule.ref;
  if (actual.allowed && !enforced.allowed) return { rule: ref, wouldHave: "denied", reason: enforced.reason, message: enforced.message };
  if (!actual.allowed && enforced.allowed) {
    return { rule: ref, wouldHave: "granted", reason: "Granted", message: `would have granted under ${formatRef(enforced.policy)}: ${describeGrant(enforced.grant)}` };
  }
  if (!actual.allowed || !enforced.allowed) return { rule: ref, wouldHave: "unchanged" };
  const samePolicy = formatRef(actual.policy) === formatRef(enforced.policy);
  if (samePolicy && sameGrant(actual.grant, enforced.grant)) return { rule: ref, wouldHave: "unchanged" };
  if (samePolicy && narrower(enforced.grant, actual.grant)) {
    const clamps = enforced.grant.clamps.filter((c) => !actual.grant.clamps.includes(c));
    const binding = (enforced.grant.dpopRequiredBy ?? []).filter((by) => !(actual.grant.dpopRequiredBy ?? []).includes(by));
    const parts = [...clamps, ...(binding.length === 0 ? [] : [`tokens DPoP-bound as ${binding.join(", ")} requires`])];
    return { rule: ref, wouldHave: "clamped", reason: "Clamped", message: parts.length > 0 ? parts.join("; ") : describeGrant(enforced.grant) };
  }
  return {
    rule: ref,
    wouldHave: "granted",
    reason: "Granted",
    message: `would have granted under ${formatRef(enforced.policy)} (instead of ${formatRef(actual.policy)}): ${describeGrant(enforced.grant)}`,
  };
}

/** A rule past MAX_AUDITED_RULES_PER_DECISION: listed, so its owner sees it was not evaluated. */
export function unevaluatedRecord(rule: AuditedRule): AuditRecord {
  return {
    rule: rule.ref,
    wouldHave: "unevaluated",
    reason: "AuditLimitExceeded",
    message: `more than ${MAX_AUDITED_RULES_PER_DECISION} audited rules apply to this request; this one was not evaluated`,
  };
}

/** An audited resource could change the decision: it selects the subject, or (a ClusterTokenPolicy) keeps a requested audience in the namespace. */
function couldTakePart(policy: CompiledPolicy, subject: Subject, request: TokenRequest): boolean {
  const grants = policy.grants;
  if (grants === undefined) return false;
  if (policy.ref.kind === "TokenPolicy") return couldBeChosen(policy, subject, request);
  return grants.subjects.namespaceSelector?.matches(subject.namespace.labels) === true && request.audiences.some((a) => grants.audiences.has(a));
}

/** The policy could be the one chosen, so its conditions could run. */
function couldBeChosen(policy: CompiledPolicy, subject: Subject, request: TokenRequest): boolean {
  const grants = policy.grants;
  return grants !== undefined && selects(policy, subject) && request.audiences.every((a) => grants.audiences.has(a));
}

function wholePolicy(policy: CompiledPolicy): AuditedRule {
  return { key: resourceRuleKey(policy.ref), ref: { ...policy.ref, rule: WHOLE_RESOURCE_RULE } };
}

function conditionRule(ref: CompiledPolicy["ref"], audit: AuditedCondition): AuditedRule {
  return { key: audit.key, ref: { ...ref, rule: audit.rule } };
}

function contractRef(contract: CompiledContract): Omit<AuditedRuleRef, "rule"> {
  const { kind, namespace, name, generation } = contract.ref;
  return { kind, namespace, name, generation };
}

function sameGrant(a: Grant, b: Grant): boolean {
  return (
    a.ttlSeconds === b.ttlSeconds &&
    sameList(a.audiences, b.audiences) &&
    sameList(a.scopes, b.scopes) &&
    sameList(a.dpopRequiredBy ?? [], b.dpopRequiredBy ?? []) &&
    JSON.stringify(a.claims) === JSON.stringify(b.claims)
  );
}

/** `less` grants no more than `more`: the same audiences and claims, a subset of the scopes, no longer, bound at least as often. */
function narrower(less: Grant, more: Grant): boolean {
  return (
    sameList(less.audiences, more.audiences) &&
    less.scopes.every((s) => more.scopes.includes(s)) &&
    less.ttlSeconds <= more.ttlSeconds &&
    (more.dpopRequiredBy ?? []).length <= (less.dpopRequiredBy ?? []).length &&
    JSON.stringify(less.claims) === JSON.stringify(more.claims)
  );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v) => b.includes(v));
}

function describeGrant(grant: Grant): string {
  const scopes = grant.scopes.length === 0 ? "no scope" : `scopes ${grant.scopes.join(" ")}`;
  return `${grant.audiences.join(", ")}, ${scopes}, ${grant.ttlSeconds}s`;
}
