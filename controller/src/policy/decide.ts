// decide: the whole decision for one token request, deny by default; explain: the same, for people.
//
// Three parties must agree: the caller's policy grants, each audience's owner admits, the operator's guardrails
// allow. Order of checks (each denial names the party that said no):
//   audiences brought to canonical form -> each audience's owner found (unowned is denied) -> THE policy chosen
//   (choosePolicy, choose.ts; TokenPolicies are passed over for audiences the operator keeps) -> guardrails on
//   audiences and claims (TokenPolicies only) -> delegation -> conditions -> scopes -> TTL -> owners' contracts
//   (admission, scopes, TTL) -> claims evaluated -> claims the owners require. Every condition is evaluated even
//   after one fails, so the record shows all of them.
// Audit mode (enforcement.ts, audit.ts): the decision is made as if every audited rule did not exist; then, for
// each audited rule that could apply, the same function decides again with that one rule enforced, and the
// difference is recorded in `audit`. One copy of each rule: the counterfactual runs exactly this code.

import type { PolicyActor } from "../../../api/token-policy.ts";
import type { CompiledCondition, CompiledPolicy } from "./compiled-policy.ts";
import { CostMeter } from "./cel/cost-meter.ts";
import { toClaimValue, type EvalResult } from "./cel/expression.ts";
import { choosePolicy } from "./choose.ts";
import { bindingsFor, type Bindings } from "./cel/variables.ts";
import { isIssuerOwnedClaim } from "./claim-names.ts";
import { audienceProblem, claimProblem, scopeAllowed, type EffectiveGuardrails } from "./guardrails.ts";
import type { PolicySet } from "./policy-set.ts";
import { auditedRulesFor, auditRecord, canonicalRequest, MAX_AUDITED_RULES_PER_DECISION, unevaluatedRecord } from "./audit.ts";
import { combineGuardrails } from "./guardrails.ts";
import { conditionApplies, type AsEnforced } from "./enforcement.ts";
import { formatRef } from "./refs.ts";
import type { CompiledSelector } from "./selector.ts";
import { admit, firstFailure, type Admission } from "./audience/admit.ts";
import { canonicalAudience } from "./audience/canonical.ts";
import { describeOwner, resolveOwner, type AudienceOwner, type NamespaceLabels } from "./audience/owner.ts";
import type {
  Actor,
  AudienceEvaluation,
  ConditionResult,
  DelegationLink,
  DenyingParty,
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
   * Labels of any namespace by name, to find which namespace an operator's rule assigns an audience to. Without
   * it only the subject's own namespace is known.
   */
  readonly namespaceLabels?: NamespaceLabels;
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
  readonly namespaceLabels?: NamespaceLabels;
}

/** What explain shows: the decision that would be made, and the guardrails over the subject's namespace. */
export interface Explanation {
  readonly decision: Decision;
  readonly guardrails: readonly string[];
  /** Audited guardrails over the subject's namespace: reported, never applied. */
  readonly auditedGuardrails: readonly string[];
}

export function decide(input: DecideInput): Decision {
  const meter = input.meter ?? new CostMeter();
  const decision = decideAs(input, meter, undefined);
  const request = canonicalRequest(input.request);
  if (request === undefined) return decision;
  const rules = auditedRulesFor(input.policies, input.subject, request);
  if (rules.length === 0) return decision;
  // Each counterfactual is the decision this request would get with that rule enforced, so it has that decision's
  // own budget: charging the real decision's meter would let an audited rule deny a request (CostLimitExceeded).
  const audit = rules.map((rule, i) =>
    i < MAX_AUDITED_RULES_PER_DECISION ? auditRecord(rule, decision, decideAs(input, new CostMeter(meter.budget), rule.key)) : unevaluatedRecord(rule),
  );
  return { ...decision, audit };
}

/** One decision, with every audited rule left out except `asEnforced`, which is applied as if enforced. */
function decideAs(input: DecideInput, meter: CostMeter, asEnforced: AsEnforced): Decision {
  const { subject, policies, now, id } = input;
  const common = { id, at: now.toISOString(), subject, request: input.request };
  let audienceRecord: AudienceEvaluation[] = [];
  let chainRecord: DelegationLink[] | undefined;
  const deny = (
    reason: DenialReason,
    message: string,
    evaluations: readonly PolicyEvaluation[],
    policy?: CompiledPolicy,
    deniedBy: DenyingParty = policy?.ref.kind === "ClusterTokenPolicy" ? "operator" : "caller",
  ): DeniedDecision => ({
    ...common,
    evaluations,
    audiences: audienceRecord,
    ...(chainRecord === undefined ? {} : { delegation: chainRecord }),
    allowed: false,
    reason,
    message,
    deniedBy,
    ...(policy === undefined ? {} : { policy: policy.ref }),
  });

  // Audiences in their one canonical spelling, so no comparison below can be won by spelling (canonical.ts).
  const audiences: string[] = [];
  for (const raw of input.request.audiences) {
    const canonical = canonicalAudience(raw);
    if (!canonical.ok) return deny("AudienceNotAllowed", `'${raw}' is not a valid audience: ${canonical.message}`, []);
    audiences.push(canonical.audience);
  }
  const request: TokenRequest = { audiences: unique(audiences), scopes: unique(input.request.scopes) };

  // Every audience needs an owner before any policy is asked: deny by default.
  const labelsOf = input.namespaceLabels ?? ((name: string) => (name === subject.namespace.name ? subject.namespace.labels : undefined));
  const owners: AudienceOwner[] = [];
  for (const audience of request.audiences) {
    const owner = resolveOwner(audience, policies.ownershipOf(audience), (a) => policies.contractsFor(a, asEnforced), labelsOf);
    if (!owner.ok) {
      audienceRecord.push({ audience, ownedBy: "Unowned" });
      return deny(owner.reason, owner.message, [], undefined, "owner");
    }
    owners.push(owner.owner);
  }
  audienceRecord = owners.map(ownerRecord);

  const matched = choosePolicy(subject, request, policies, asEnforced);
  if (!matched.chosen) {
    const byOperator = matched.evaluations.some((e) => e.selected && e.skippedBecause?.includes("ClusterTokenPolic") === true);
    return deny(matched.reason, matched.message, matched.evaluations, undefined, byOperator ? "operator" : "caller");
  }

  const policy = matched.policy;
  const grants = policy.grants;
  const chosenIndex = matched.evaluations.findIndex((e) => e.policy === policy.ref);
  const withConditions = (conditions: readonly ConditionResult[]): readonly PolicyEvaluation[] =>
    matched.evaluations.map((e, i) => (i === chosenIndex ? { ...e, conditions } : e));
  if (grants === undefined) return deny("NoMatchingPolicy", "the matched policy grants nothing", matched.evaluations);
  const under = formatRef(policy.ref);
  const isNamespaced = policy.ref.kind === "TokenPolicy";
  const guardrails = isNamespaced ? policies.guardrailsFor(subject.namespace.labels, asEnforced) : undefined;

  // Fail closed: unknown guardrails or ownership rules cannot be respected.
  const brokenRails = isNamespaced ? policies.rejectedGuardrails() : [];
  if (brokenRails.length > 0) {
    return deny(
      "PolicyNotAccepted",
      `guardrails of ${brokenRails.map((r) => formatRef(r.ref)).join(", ")} are not accepted; ` +
        `no TokenPolicy (here ${under}) grants tokens until they are fixed`,
      matched.evaluations,
      policy,
      "operator",
    );
  }

  // Guardrails on what a TokenPolicy may grant at all.
  if (guardrails !== undefined) {
    for (const audience of request.audiences) {
      const problem = audienceProblem(guardrails, audience);
      if (problem !== undefined) {
        return deny("GuardrailViolation", `${under} may not grant: ${problem}`, matched.evaluations, policy, "operator");
      }
    }
    for (const claim of grants.claims) {
      const problem = claimProblem(guardrails, claim.name);
      if (problem !== undefined) {
        return deny("GuardrailViolation", `${under} may not set ${claim.path}: ${problem}`, matched.evaluations, policy, "operator");
      }
    }
  }

  // Delegation: every actor in the chain must be one the policy names, and the chain must be short enough.
  if (subject.actors.length > 0) {
    const delegation = grants.delegation;
    if (delegation === undefined) {
      return deny("DelegationNotAllowed", `${under} accepts no actor for this subject`, matched.evaluations, policy);
    }
    const ruleOf = (actor: Actor): number => actorRule(delegation.actors, grants.actorSelectors, actor, labelsOf);
    const stranger = subject.actors.find((actor) => ruleOf(actor) < 0);
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
      const byGuardrail = guardrailMax !== undefined && guardrailMax.value < delegation.maxChainLength;
      return deny(
        "DelegationChainTooLong",
        `delegation chain of ${subject.actors.length} actors exceeds ${max}, the longest ${byGuardrail ? guardrailMax.by : under} allows`,
        matched.evaluations,
        policy,
        byGuardrail ? "operator" : undefined,
      );
    }
    chainRecord = subject.actors.map((actor) => {
      const index = ruleOf(actor);
      const rule = delegation.actors[index];
      const what =
        rule?.serviceAccount !== undefined
          ? `service account ${rule.serviceAccount.namespace}/${rule.serviceAccount.name}`
          : rule?.serviceAccounts !== undefined
            ? `service accounts ${rule.serviceAccounts.names?.join(", ") ?? "any"} in namespaces selected by labels`
            : `subject ${rule?.subject ?? ""}`;
      return { actor: actor.sub, allowedBy: `${under} spec.delegation.actors[${index}] (${what})` };
    });
  }

  // Conditions: all evaluated for the record; the first failure decides, unless the budget ran out: then the
  // record is incomplete and the policy, not the caller, has to change.
  const bindings = bindingsFor(subject, request);
  const evaluated = grants.conditions.filter((c) => conditionApplies(c, asEnforced)).map((c) => evaluateCondition(c, bindings, meter));
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
          "operator",
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

  // Delegable scopes: an actor holds only what the subject's policy lets it be given.
  const delegable = grants.delegation?.scopes;
  if (subject.actors.length > 0 && delegable !== undefined) {
    const kept = scopes.find((s) => !delegable.includes(s));
    if (kept !== undefined) {
      return deny("DelegationNotAllowed", `${under} does not let an actor be given scope '${kept}' (delegable: ${delegable.join(", ") || "none"})`, evaluations, policy);
    }
  }

  // TTL: the policy's, clamped by guardrails.
  let ttlSeconds = grants.ttlSeconds;
  const maxTtl = guardrails?.maxTtlSeconds;
  if (maxTtl !== undefined && ttlSeconds > maxTtl.value) {
    clamps.push(`ttl clamped from ${ttlSeconds}s to ${maxTtl.value}s by ${maxTtl.by}`);
    ttlSeconds = maxTtl.value;
  }

  // The owners' side: each contract must admit this caller for every scope granted; it defines what a scope means.
  const admissions: Admission[] = [];
  for (const owner of owners) {
    if (owner.kind !== "Contract") continue;
    const { contract } = owner;
    // The owner's conditions charge the same per-decision budget as the caller's policy.
    const admission = admit(contract, subject, bindings, (c, b) => evaluateCondition(c, b, meter), asEnforced);
    admissions.push(admission);
    audienceRecord = audienceRecord.map((r) => (r.audience === owner.audience ? withAdmission(r, admission) : r));
    const ownerName = describeOwner(contract);
    if (admission.costLimitExceeded !== undefined) {
      return deny(
        "CostLimitExceeded",
        `${ownerName} caller entry '${admission.costLimitExceeded.caller}' condition '${admission.costLimitExceeded.condition.name}' ` +
          (admission.costLimitExceeded.condition.message ?? ""),
        evaluations,
        policy,
        "owner",
      );
    }
    if (!admission.admitted) {
      const failure = firstFailure(admission);
      return deny(
        "AudienceOwnerDenied",
        `${under} grants audience '${owner.audience}', but its owner ${ownerName} does not admit ${describeCaller(subject)}` +
          (failure === undefined
            ? ""
            : ` (caller entry '${failure.caller}' condition '${failure.condition.name}' failed: ${failure.condition.message ?? ""})`),
        evaluations,
        policy,
        "owner",
      );
    }
    if (request.scopes.length > 0) {
      for (const scope of scopes) {
        if (!contract.scopes.has(scope)) {
          return deny(
            "AudienceOwnerDenied",
            `${under} grants scope '${scope}', but ${ownerName} does not define it for audience '${owner.audience}'`,
            evaluations,
            policy,
            "owner",
          );
        }
        if (!admission.scopes.has(scope)) {
          return deny(
            "AudienceOwnerDenied",
            `${under} grants scope '${scope}', but ${ownerName} admits ${describeCaller(subject)} for ` +
              `${admission.scopes.size === 0 ? "no scope" : [...admission.scopes].sort().join(", ")} only`,
            evaluations,
            policy,
            "owner",
          );
        }
      }
    } else {
      const dropped = scopes.filter((s) => !admission.scopes.has(s));
      if (dropped.length > 0) {
        scopes = scopes.filter((s) => admission.scopes.has(s));
        clamps.push(`default scopes ${dropped.join(", ")} dropped: not admitted by ${ownerName}`);
      }
    }
    const accepts = contract.delegation;
    if (subject.actors.length > 0 && accepts !== undefined) {
      if (subject.actors.length > accepts.maxChainLength) {
        return deny(
          "AudienceOwnerDenied",
          accepts.maxChainLength === 0
            ? `${ownerName} accepts no delegated token for audience '${owner.audience}'`
            : `${ownerName} accepts delegation chains of at most ${accepts.maxChainLength} actors for audience '${owner.audience}', not ${subject.actors.length}`,
          evaluations,
          policy,
          "owner",
        );
      }
      const refused = scopes.find((s) => accepts.scopes !== undefined && !accepts.scopes.has(s));
      if (refused !== undefined) {
        return deny("AudienceOwnerDenied", `${ownerName} does not let an actor hold scope '${refused}' for audience '${owner.audience}'`, evaluations, policy, "owner");
      }
    }
    if (contract.maxTtlSeconds !== undefined && ttlSeconds > contract.maxTtlSeconds) {
      clamps.push(`ttl clamped from ${ttlSeconds}s to ${contract.maxTtlSeconds}s by ${ownerName}`);
      ttlSeconds = contract.maxTtlSeconds;
    }
  }

  // Claims: evaluated last, so a claim never runs for a request that was going to be denied anyway. The object has
  // no prototype, so no claim name can reach one (names like __proto__ are refused at compile as well).
  const claims: Record<string, JsonValue> = Object.create(null) as Record<string, JsonValue>;
  for (const claim of grants.claims) {
    if (isIssuerOwnedClaim(claim.name) || (guardrails !== undefined && claimProblem(guardrails, claim.name) !== undefined)) {
      // Unreachable for compiled policies; kept so no code path can ever emit such a claim.
      return deny("GuardrailViolation", `${under} may not set claim '${claim.name}'`, evaluations, policy, "operator");
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
  for (const { contract } of admissions) {
    const missing = contract.requiredClaims.find((name) => !Object.hasOwn(claims, name));
    if (missing !== undefined) {
      return deny(
        "AudienceOwnerDenied",
        `${describeOwner(contract)} requires claim '${missing}' in every token for audience '${contract.audience}'; ` +
          `${under} does not set it`,
        evaluations,
        policy,
        "owner",
      );
    }
  }

  // Binding is required when the caller's policy asks for it or any audience's owner does: either party may demand
  // it, and neither can waive the other's demand.
  const dpopRequiredBy = [
    ...(grants.requireDpop ? [under] : []),
    ...admissions.filter(({ contract }) => contract.requireDpop).map(({ contract }) => describeOwner(contract)),
  ];
  const grant: Grant = {
    audiences: [...request.audiences],
    scopes,
    ttlSeconds,
    claims,
    clamps,
    ...(dpopRequiredBy.length > 0 ? { dpopRequiredBy } : {}),
  };
  return {
    ...common,
    evaluations,
    audiences: audienceRecord,
    ...(chainRecord === undefined ? {} : { delegation: chainRecord }),
    allowed: true,
    policy: policy.ref,
    grant,
  };
}

/** The same evaluations as decide, for people: nothing is minted and nothing is recorded as issued. */
export function explain(input: ExplainInput): Explanation {
  const decision = decide({ ...input, id: input.id ?? "explain" });
  const labels = input.subject.namespace.labels;
  const audited = input.policies.allGuardrails().filter((p) => p.audited === true);
  const auditedRails = audited.length === 0 ? [] : describeGuardrails(combineGuardrails(audited, labels), false);
  return { decision, guardrails: describeGuardrails(input.policies.guardrailsFor(labels)), auditedGuardrails: auditedRails };
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

function ownerRecord(owner: AudienceOwner): AudienceEvaluation {
  switch (owner.kind) {
    case "Cluster":
    case "Open":
      return { audience: owner.audience, ownedBy: owner.kind, assignedBy: owner.by };
    case "Contract": {
      const { ref, owner: team } = owner.contract;
      return {
        audience: owner.audience,
        ownedBy: "Contract",
        assignedBy: owner.assignedBy,
        contract: { namespace: ref.namespace, name: ref.name, generation: ref.generation },
        ownerTeam: team.team,
        ...(team.contact === undefined ? {} : { ownerContact: team.contact }),
      };
    }
  }
}

function withAdmission(record: AudienceEvaluation, admission: Admission): AudienceEvaluation {
  return {
    ...record,
    admittedBy: admission.callers.filter((c) => c.admitted).map((c) => c.name),
    scopesAdmitted: [...admission.scopes].sort(),
    conditions: admission.callers.flatMap((c) => c.conditions),
  };
}

function describeCaller(subject: Subject): string {
  return `service account ${subject.serviceAccount.namespace}/${subject.serviceAccount.name}`;
}

/** Index of the first rule that lets `actor` act, or -1. */
function actorRule(
  allowed: readonly PolicyActor[],
  selectors: ReadonlyMap<number, CompiledSelector> | undefined,
  actor: Actor,
  labelsOf: NamespaceLabels,
): number {
  return allowed.findIndex((rule, i) => actorAllowed(rule, selectors?.get(i), actor, labelsOf));
}

function actorAllowed(rule: PolicyActor, selector: CompiledSelector | undefined, actor: Actor, labelsOf: NamespaceLabels): boolean {
  if (rule.subject !== undefined) return rule.subject === actor.sub;
  if (rule.serviceAccounts !== undefined) {
    // A set of service accounts by their namespace's labels; a namespace whose labels are unknown matches nothing.
    const sa = actor.serviceAccount;
    if (sa === undefined || selector === undefined) return false;
    if (rule.serviceAccounts.names !== undefined && !rule.serviceAccounts.names.includes(sa.name)) return false;
    const labels = labelsOf(sa.namespace);
    return labels !== undefined && selector.matches(labels);
  }
  const sa = rule.serviceAccount;
  return (
    sa !== undefined &&
    actor.serviceAccount !== undefined &&
    sa.namespace === actor.serviceAccount.namespace &&
    sa.name === actor.serviceAccount.name
  );
}

function describeGuardrails(g: EffectiveGuardrails, withBuiltIn = true): string[] {
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
  for (const [claim, by] of g.reservedClaims) {
    if (withBuiltIn || g.sources.some((ref) => by.includes(formatRef(ref)))) lines.push(`reserved claim ${claim} (${by})`);
  }
  return lines;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
