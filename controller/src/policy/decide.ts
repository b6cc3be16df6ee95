// decide: the whole decision for one token request, deny by default; explain: the same, for people.
//
// Choosing THE policy, and the denials met while choosing, is choosePolicy (choose.ts). Order of checks once it
// has chosen (each denial names the policy):
//   guardrails on audiences and claims (TokenPolicies only) -> delegation -> conditions -> scopes -> TTL ->
//   claims evaluated. Every condition is evaluated even after one fails, so the record shows all of them.

import type { PolicyActor } from "../../../api/token-policy.ts";
import type { CompiledCondition, CompiledPolicy } from "./compiled-policy.ts";
import { CostMeter } from "./cel/cost-meter.ts";
import { toClaimValue, type EvalResult } from "./cel/expression.ts";
import { choosePolicy } from "./choose.ts";
import { bindingsFor, type Bindings } from "./cel/variables.ts";
import { isIssuerOwnedClaim } from "./claim-names.ts";
import { audienceProblem, claimProblem, scopeAllowed, type EffectiveGuardrails } from "./guardrails.ts";
import type { PolicySet } from "./policy-set.ts";
import { formatRef } from "./refs.ts";
import type {
  Actor,
  ConditionResult,
  Decision,
  DeniedDecision,
  DenialReason,
  Grant,
  JsonValue,
  PolicyEvaluation,
  Subject,
  TokenRequest,
} from "./types.ts";

export interface DecideInput {
  readonly subject: Subject;
  readonly request: TokenRequest;
  readonly policies: PolicySet;
  /** Decision time, from the caller's clock. */
  readonly now: Date;
  /** Decision id; becomes the token's jti when allowed. */
  readonly id: string;
  /**
   * The CEL budget of this decision; a fresh one of DECISION_COST_BUDGET units when absent. Every expression the
   * decision evaluates charges it, so together they stay within it.
   */
  readonly meter?: CostMeter;
}

export interface ExplainInput {
  readonly subject: Subject;
  readonly request: TokenRequest;
  readonly policies: PolicySet;
  readonly now: Date;
  readonly id?: string;
}

/** What explain shows: the decision that would be made, and the guardrails over the subject's namespace. */
export interface Explanation {
  readonly decision: Decision;
  readonly guardrails: readonly string[];
}

export function decide(input: DecideInput): Decision {
  const { subject, policies, now, id } = input;
  const request: TokenRequest = {
    audiences: unique(input.request.audiences),
    scopes: unique(input.request.scopes),
  };
  const common = { id, at: now.toISOString(), subject, request: input.request };
  const deny = (
    reason: DenialReason,
    message: string,
    evaluations: readonly PolicyEvaluation[],
    policy?: CompiledPolicy,
  ): DeniedDecision => ({
    ...common,
    evaluations,
    allowed: false,
    reason,
    message,
    ...(policy === undefined ? {} : { policy: policy.ref }),
  });

  const matched = choosePolicy(subject, request, policies);
  if (!matched.chosen) return deny(matched.reason, matched.message, matched.evaluations);

  const policy = matched.policy;
  const grants = policy.grants;
  const chosenIndex = matched.evaluations.findIndex((e) => e.policy === policy.ref);
  const withConditions = (conditions: readonly ConditionResult[]): readonly PolicyEvaluation[] =>
    matched.evaluations.map((e, i) => (i === chosenIndex ? { ...e, conditions } : e));
  if (grants === undefined) return deny("NoMatchingPolicy", "the matched policy grants nothing", matched.evaluations);
  const under = formatRef(policy.ref);
  const isNamespaced = policy.ref.kind === "TokenPolicy";
  const guardrails = isNamespaced ? policies.guardrailsFor(subject.namespace.labels) : undefined;

  // Fail closed: unknown guardrails cannot be respected.
  const brokenRails = isNamespaced ? policies.rejectedGuardrails() : [];
  if (brokenRails.length > 0) {
    return deny(
      "PolicyNotAccepted",
      `guardrails of ${brokenRails.map((r) => formatRef(r.ref)).join(", ")} are not accepted; ` +
        `no TokenPolicy (here ${under}) grants tokens until they are fixed`,
      matched.evaluations,
      policy,
    );
  }

  // Guardrails on what a TokenPolicy may grant at all.
  if (guardrails !== undefined) {
    for (const audience of request.audiences) {
      const problem = audienceProblem(guardrails, audience);
      if (problem !== undefined) {
        return deny("GuardrailViolation", `${under} may not grant: ${problem}`, matched.evaluations, policy);
      }
    }
    for (const claim of grants.claims) {
      const problem = claimProblem(guardrails, claim.name);
      if (problem !== undefined) {
        return deny("GuardrailViolation", `${under} may not set ${claim.path}: ${problem}`, matched.evaluations, policy);
      }
    }
  }

  // Delegation: every actor in the chain must be one the policy names, and the chain must be short enough.
  if (subject.actors.length > 0) {
    const delegation = grants.delegation;
    if (delegation === undefined) {
      return deny("DelegationNotAllowed", `${under} accepts no actor for this subject`, matched.evaluations, policy);
    }
    const stranger = subject.actors.find((actor) => !actorAllowed(delegation.actors, actor));
    if (stranger !== undefined) {
      return deny(
        "DelegationNotAllowed",
        `${under} does not allow '${stranger.sub}' to act for this subject`,
        matched.evaluations,
        policy,
      );
    }
    const guardrailMax = guardrails?.maxDelegationChainLength;
    const max = Math.min(delegation.maxChainLength, guardrailMax?.value ?? Infinity);
    if (subject.actors.length > max) {
      const by = guardrailMax !== undefined && guardrailMax.value < delegation.maxChainLength ? guardrailMax.by : under;
      return deny(
        "DelegationChainTooLong",
        `delegation chain of ${subject.actors.length} actors exceeds ${max}, the longest ${by} allows`,
        matched.evaluations,
        policy,
      );
    }
  }

  // Conditions: all evaluated for the record; the first failure decides, unless the budget ran out: then the
  // record is incomplete and the policy, not the caller, has to change.
  const meter = input.meter ?? new CostMeter();
  const bindings = bindingsFor(subject, request);
  const evaluated = grants.conditions.map((c) => evaluateCondition(c, bindings, meter));
  const conditions = evaluated.map((e) => e.result);
  const overBudget = evaluated.find((e) => e.costLimitExceeded);
  if (overBudget !== undefined) {
    return deny(
      "CostLimitExceeded",
      `${under} condition '${overBudget.result.name}' ${overBudget.result.message ?? ""}`,
      withConditions(conditions),
      policy,
    );
  }
  const failed = conditions.find((c) => !c.passed);
  if (failed !== undefined) {
    return deny(
      "ConditionFailed",
      `${under} condition '${failed.name}' failed: ${failed.message ?? ""}`,
      withConditions(conditions),
      policy,
    );
  }
  const evaluations = withConditions(conditions);
  const clamps: string[] = [];

  // Scopes: requested ones must all be grantable; otherwise the defaults, minus what guardrails forbid.
  let scopes: string[];
  if (request.scopes.length > 0) {
    for (const scope of request.scopes) {
      if (!grants.allowedScopes.has(scope)) {
        return deny("ScopeNotAllowed", `${under} does not allow scope '${scope}'`, evaluations, policy);
      }
      if (guardrails !== undefined && !scopeAllowed(guardrails, scope)) {
        return deny(
          "ScopeNotAllowed",
          `scope '${scope}' is not among the scopes ${guardrails.allowedScopes?.by ?? "guardrails"} allow`,
          evaluations,
          policy,
        );
      }
    }
    scopes = [...request.scopes];
  } else {
    scopes = grants.defaultScopes.filter((s) => grants.allowedScopes.has(s));
    if (guardrails !== undefined) {
      const dropped = scopes.filter((s) => !scopeAllowed(guardrails, s));
      if (dropped.length > 0) {
        scopes = scopes.filter((s) => scopeAllowed(guardrails, s));
        clamps.push(`default scopes ${dropped.join(", ")} dropped by ${guardrails.allowedScopes?.by ?? "guardrails"}`);
      }
    }
  }

  // TTL: the policy's, clamped by guardrails.
  let ttlSeconds = grants.ttlSeconds;
  const maxTtl = guardrails?.maxTtlSeconds;
  if (maxTtl !== undefined && ttlSeconds > maxTtl.value) {
    clamps.push(`ttl clamped from ${ttlSeconds}s to ${maxTtl.value}s by ${maxTtl.by}`);
    ttlSeconds = maxTtl.value;
  }

  // Claims: evaluated last, so a claim never runs for a request that was going to be denied anyway.
  const claims: Record<string, JsonValue> = {};
  for (const claim of grants.claims) {
    if (isIssuerOwnedClaim(claim.name) || (guardrails !== undefined && claimProblem(guardrails, claim.name) !== undefined)) {
      // Unreachable for compiled policies; kept so no code path can ever emit such a claim.
      return deny("GuardrailViolation", `${under} may not set claim '${claim.name}'`, evaluations, policy);
    }
    const result = claim.expression.evaluate(bindings, meter);
    const value: EvalResult<JsonValue> = result.ok ? toClaimValue(result.value) : result;
    if (!value.ok && value.code === "CostLimitExceeded") {
      return deny(
        "CostLimitExceeded",
        `${under} ${claim.path} (claim '${claim.name}') was not evaluated within the CEL cost budget: ${value.error}`,
        evaluations,
        policy,
      );
    }
    if (!value.ok) {
      return deny(
        "ClaimEvaluationFailed",
        `${under} ${claim.path} (claim '${claim.name}') failed: ${value.error}`,
        evaluations,
        policy,
      );
    }
    claims[claim.name] = value.value;
  }

  const grant: Grant = { audiences: [...request.audiences], scopes, ttlSeconds, claims, clamps, ...(grants.requireDpop ? { requireDpop: true as const } : {}) };
  return { ...common, evaluations, allowed: true, policy: policy.ref, grant };
}

/** The same evaluations as decide, for people: nothing is minted and nothing is recorded as issued. */
export function explain(input: ExplainInput): Explanation {
  const decision = decide({ ...input, id: input.id ?? "explain" });
  return { decision, guardrails: describeGuardrails(input.policies.guardrailsFor(input.subject.namespace.labels)) };
}

function evaluateCondition(
  condition: CompiledCondition,
  bindings: Bindings,
  meter: CostMeter,
): { readonly result: ConditionResult; readonly costLimitExceeded: boolean } {
  const outcome = condition.expression.evaluate(bindings, meter);
  const result = (passed: boolean, message?: string): ConditionResult => ({
    name: condition.name,
    passed,
    ...(message === undefined ? {} : { message }),
  });
  if (!outcome.ok && outcome.code === "CostLimitExceeded") {
    return { result: result(false, `was not evaluated within the CEL cost budget: ${outcome.error}`), costLimitExceeded: true };
  }
  if (!outcome.ok) return { result: result(false, `could not be evaluated: ${outcome.error}`), costLimitExceeded: false };
  if (outcome.value === true) return { result: result(true), costLimitExceeded: false };
  if (outcome.value === false) return { result: result(false, condition.message), costLimitExceeded: false };
  return { result: result(false, "did not evaluate to a bool"), costLimitExceeded: false };
}

function actorAllowed(allowed: readonly PolicyActor[], actor: Actor): boolean {
  return allowed.some((rule) => {
    if (rule.subject !== undefined) return rule.subject === actor.sub;
    const sa = rule.serviceAccount;
    return (
      sa !== undefined &&
      actor.serviceAccount !== undefined &&
      sa.namespace === actor.serviceAccount.namespace &&
      sa.name === actor.serviceAccount.name
    );
  });
}

function describeGuardrails(g: EffectiveGuardrails): string[] {
  const lines: string[] = [];
  if (g.maxTtlSeconds !== undefined) lines.push(`maxTtlSeconds ${g.maxTtlSeconds.value} (${g.maxTtlSeconds.by})`);
  if (g.maxDelegationChainLength !== undefined) {
    lines.push(`maxDelegationChainLength ${g.maxDelegationChainLength.value} (${g.maxDelegationChainLength.by})`);
  }
  if (g.allowedAudiences !== undefined) {
    lines.push(`allowedAudiences ${[...g.allowedAudiences.value].join(", ")} (${g.allowedAudiences.by})`);
  }
  if (g.allowedScopes !== undefined) lines.push(`allowedScopes ${[...g.allowedScopes.value].join(", ")} (${g.allowedScopes.by})`);
  if (g.allowedClaims !== undefined) lines.push(`allowedClaims ${[...g.allowedClaims.value].join(", ")} (${g.allowedClaims.by})`);
  for (const [audience, by] of g.reservedAudiences) lines.push(`reserved audience ${audience} (${by})`);
  for (const [claim, by] of g.reservedClaims) lines.push(`reserved claim ${claim} (${by})`);
  return lines;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
