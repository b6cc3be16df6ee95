// The policy engine's contract: the subject vector, a token request, and the decision (which is also the audit record).

import type { PolicyRef } from "../../../api/token-policy.ts";

/** A JSON value, the only kind of value a claim may hold. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** One actor in a delegation chain (RFC 8693 `act`), verified by the issuer before it reaches the engine. */
export interface Actor {
  /** The actor's subject, e.g. system:serviceaccount:agents:planner. */
  readonly sub: string;
  /** The issuer that vouched for the actor (the cluster's service-account issuer, or Tessera). */
  readonly iss: string;
  /** Set when the actor is a Kubernetes service account. */
  readonly serviceAccount?: { readonly namespace: string; readonly name: string };
}

/** A pod's controller owner reference, as the apiserver stores it (apiVersion is "group/version", or "v1" for core). */
export interface PodOwner {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
}

/** Who is asking: every dimension a policy may select on or read. */
export interface Subject {
  readonly serviceAccount: { readonly namespace: string; readonly name: string; readonly uid?: string };
  readonly namespace: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  readonly pod: {
    readonly name: string;
    readonly uid: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
    readonly nodeName?: string;
    /**
     * The controller owner reference, e.g. batch/v1 Job deploy-42, when the pod has one. apiVersion tells a
     * Kubernetes Job from a custom resource that is also called Job (Volcano's batch.volcano.sh Job, say).
     */
    readonly owner?: PodOwner;
  };
  readonly cluster: { readonly name: string; readonly environment: string };
  /**
   * Delegation chain, current actor first (RFC 8693 section 4.1: the outermost `act` is the current actor).
   * Empty when nobody acts for the subject.
   */
  readonly actors: readonly Actor[];
}

/** What is being asked for. */
export interface TokenRequest {
  /** Requested audiences (RFC 8693 audience/resource); at least one. */
  readonly audiences: readonly string[];
  /** Requested scopes; empty means the policy's defaults. */
  readonly scopes: readonly string[];
}

/** Machine-readable reason a request was denied. */
export type DenialReason =
  | "NoMatchingPolicy"
  | "AudienceNotAllowed"
  | "ScopeNotAllowed"
  | "ConditionFailed"
  | "PolicyConflict"
  | "PolicyNotAccepted"
  | "DelegationNotAllowed"
  | "DelegationChainTooLong"
  | "GuardrailViolation"
  | "ClaimEvaluationFailed"
  /** Nobody owns a requested audience (or its ownership is contested): deny by default. */
  | "AudienceUnowned"
  /** The audience's owner (its TokenAudience contract) does not admit the caller for what was granted. */
  | "AudienceOwnerDenied"
  /** A CEL expression of the policy would exceed the decision's cost budget, or reads an input beyond its bound. */
  | "CostLimitExceeded";

/** Which of the three parties said no: the caller's team (its policy), the audience's owner, or the operator. */
export type DenyingParty = "caller" | "owner" | "operator";

/** How one requested audience is owned, and what its owner's contract said about this caller; for explain. */
export interface AudienceEvaluation {
  readonly audience: string;
  /** Contract: a team's TokenAudience decides; Cluster: the operator; Open: nobody (guardrails only); Unowned: denied. */
  readonly ownedBy: "Contract" | "Cluster" | "Open" | "Unowned";
  /** The ownership rule or Service URL that assigned it. */
  readonly assignedBy?: string;
  readonly contract?: { readonly namespace: string; readonly name: string; readonly generation: number };
  readonly ownerTeam?: string;
  readonly ownerContact?: string;
  /** Caller entries of the contract that admitted this caller. */
  readonly admittedBy?: readonly string[];
  /** Scopes the contract lets this caller hold. */
  readonly scopesAdmitted?: readonly string[];
  /** Conditions of caller entries that selected this caller. */
  readonly conditions?: readonly ConditionResult[];
}

/** Result of one CEL condition, kept for explain. */
export interface ConditionResult {
  readonly name: string;
  readonly passed: boolean;
  /** The condition's message when it failed, or the evaluation error. */
  readonly message?: string;
}

/** How one candidate policy fared against the subject and request; the raw material of explain. */
export interface PolicyEvaluation {
  readonly policy: PolicyRef;
  /** Did its subjects (service accounts, selectors, namespaces) select the subject? */
  readonly selected: boolean;
  /** Does it allow every requested audience? */
  readonly audienceAllowed: boolean;
  readonly conditions: readonly ConditionResult[];
  /** Why it was not used, when it was not. */
  readonly skippedBecause?: string;
}

/** What a decision grants. */
export interface Grant {
  readonly audiences: readonly string[];
  readonly scopes: readonly string[];
  readonly ttlSeconds: number;
  readonly claims: Readonly<Record<string, JsonValue>>;
  /** Guardrails that narrowed the grant, e.g. "ttl clamped to 300s by ClusterTokenPolicy/baseline". */
  readonly clamps: readonly string[];
  /**
   * Who requires the token to be DPoP-bound: the granting policy (its spec.requireDPoP) and every audience owner
   * whose contract does; absent when nobody does.
   */
  readonly dpopRequiredBy?: readonly string[];
}

/**
 * What one audited rule would have done to this request had it been enforced (every other audited rule staying
 * audited): denied a request that was allowed, clamped what was granted, granted a request that was denied (or
 * granted it under another policy), or nothing. unevaluated: the decision reached MAX_AUDITED_RULES_PER_DECISION
 * before this rule.
 */
export type AuditEffect = "denied" | "clamped" | "granted" | "unchanged" | "unevaluated";

/** An audited rule: a whole resource ("spec") or one of its conditions. */
export interface AuditedRuleRef {
  readonly kind: "TokenPolicy" | "ClusterTokenPolicy" | "TokenAudience";
  readonly namespace?: string;
  readonly name: string;
  readonly generation: number;
  /** "spec" for the whole resource, or the condition by name: spec.conditions[NAME], spec.callers[CALLER].conditions[NAME]. */
  readonly rule: string;
}

/** One entry of a decision's audit list. */
export interface AuditRecord {
  readonly rule: AuditedRuleRef;
  readonly wouldHave: AuditEffect;
  /** denied: the denial reason it would have given; clamped: Clamped; granted: Granted; unevaluated: AuditLimitExceeded. */
  readonly reason?: string;
  /** What it would have said: the denial message, the clamps, or the grant. */
  readonly message?: string;
}

interface DecisionCommon {
  /** Unique id; equals the minted token's jti when allowed. */
  readonly id: string;
  /** Decision time, RFC 3339, from the injected clock. */
  readonly at: string;
  readonly subject: Subject;
  readonly request: TokenRequest;
  /** Every policy considered, in precedence order. */
  readonly evaluations: readonly PolicyEvaluation[];
  /** Each requested audience's owner and what it said; empty when the decision stopped before owners were asked. */
  readonly audiences: readonly AudienceEvaluation[];
  /** When actors act for the subject and the policy accepted them: each link, current actor first, and why. */
  readonly delegation?: readonly DelegationLink[];
  /**
   * Every audited rule that could apply to this request and what it would have done; absent when none could. The
   * rest of the decision is made as if these rules did not exist.
   */
  readonly audit?: readonly AuditRecord[];
}

/** One actor of a delegation chain and the rule of the subject's policy that let it act. */
export interface DelegationLink {
  readonly actor: string;
  /** e.g. "TokenPolicy/workspaces/calendar spec.delegation.actors[0] (service account agents/planner)". */
  readonly allowedBy: string;
}

export interface AllowedDecision extends DecisionCommon {
  readonly allowed: true;
  readonly policy: PolicyRef;
  readonly grant: Grant;
}

export interface DeniedDecision extends DecisionCommon {
  readonly allowed: false;
  readonly reason: DenialReason;
  /** A message a person can act on. */
  readonly message: string;
  /** The policy that denied, when one was chosen before the denial. */
  readonly policy?: PolicyRef;
  /** Which party said no. */
  readonly deniedBy: DenyingParty;
}

/** The decision is also the audit record: everything needed to explain it later. */
export type Decision = AllowedDecision | DeniedDecision;
