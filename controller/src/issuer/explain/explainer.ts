// Explain: what a pod would get for an audience, and why, computed by the policy engine without minting anything.

import { randomUUID } from "node:crypto";
import { ANNOTATION_AUDIENCES, ANNOTATION_SCOPES } from "../../../../api/constants.ts";
import { buildSubject } from "../../policy/subject.ts";
import type { Actor, AudienceEvaluation, Decision, DelegationLink, DenialReason, DenyingParty, Subject, TokenRequest } from "../../policy/types.ts";
import { parseMayAct } from "../exchange/request.ts";
import { policyLabel } from "../record/decision-log.ts";
import { AuditEndpointError } from "../audit/errors.ts";
import { accessTokenClaims } from "../exchange/mint.ts";
import type { NamespaceInfo, NamespaceLookup, PodInfo, PodLookup } from "../subject/pod-lookup.ts";
import type { ClusterInfo } from "../subject/subject.ts";

/**
 * The narrow face of the policy engine's explain (controller/src/policy: `explain({ ...input, policies })`): the
 * decision it would make, and the guardrails in force for the subject's namespace. Nothing is minted or recorded.
 */
export interface ExplainEngine {
  explain(input: { subject: Subject; request: TokenRequest; now: Date; id: string }): {
    readonly decision: Decision;
    readonly guardrails: readonly string[];
    /** Audited guardrails over the subject's namespace: reported, never applied. */
    readonly auditedGuardrails?: readonly string[];
  };
}

/** What to explain. Empty audiences/scopes mean "what the pod's annotations ask for". */
export interface ExplainQuery {
  readonly namespace: string;
  readonly pod: string;
  readonly audiences: readonly string[];
  readonly scopes: readonly string[];
  /**
   * A delegation chain to explain, current actor first, each a service account's subject
   * (system:serviceaccount:NAMESPACE:NAME): what the pod's delegated token would be, as if each had proven itself.
   */
  readonly actors?: readonly string[];
}

/** One candidate policy, in precedence order. */
export interface ExplainedPolicy {
  readonly policy: string;
  readonly generation: number;
  /** This is the policy the decision was made under. */
  readonly chosen: boolean;
  readonly selected: boolean;
  readonly audienceAllowed: boolean;
  readonly conditions: readonly { readonly name: string; readonly passed: boolean; readonly message?: string }[];
  readonly skippedBecause?: string;
}

/** The explanation of one token request (one audience, as the sidecar asks). */
/** An audience's owner as explain shows it (the decision's AudienceEvaluation without condition details). */
export type ExplainedOwner = Omit<AudienceEvaluation, "conditions">;

export interface ExplainedRequest {
  readonly request: { readonly audiences: readonly string[]; readonly scopes: readonly string[] };
  readonly allowed: boolean;
  readonly reason?: DenialReason;
  readonly message?: string;
  /** Which party said no: the caller's policy, the audience's owner, or the operator. */
  readonly deniedBy?: DenyingParty;
  /**
   * Each requested audience's owner and what its contract admits for this caller. Optional on the wire: an issuer
   * older than audience ownership sends none, and the CLI must still print its report.
   */
  readonly owners?: readonly ExplainedOwner[];
  readonly policy?: { readonly ref: string; readonly generation: number };
  readonly policies: readonly ExplainedPolicy[];
  /** Guardrails in force for the pod's namespace (from ClusterTokenPolicies). */
  readonly guardrails: readonly string[];
  /** Guardrails that actually narrowed this grant. */
  readonly clamps: readonly string[];
  readonly granted?: {
    readonly audiences: readonly string[];
    readonly scopes: readonly string[];
    readonly ttlSeconds: number;
    /** Who requires the token to be DPoP-bound; absent when a bearer token may be issued. */
    readonly dpopRequiredBy?: readonly string[];
  };
  /** The claims a token would carry (without the per-token jti, iat, nbf, exp). */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** The delegation chain, current actor first, and the rule that let each actor act. */
  readonly delegation?: readonly DelegationLink[];
  /**
   * Audited rules that could apply and what each would have done if enforced; the decision above is made without
   * them. Optional on the wire: an issuer older than audit mode sends none.
   */
  readonly audited?: readonly ExplainedAudit[];
  /** Audited guardrails over the pod's namespace, listed apart from those in force. */
  readonly auditedGuardrails?: readonly string[];
}

/** One audited rule and its would-be outcome. */
export interface ExplainedAudit {
  /** "ClusterTokenPolicy/baseline", or with the condition: "TokenPolicy/ns/p spec.conditions[tenant]". */
  readonly rule: string;
  readonly generation: number;
  readonly wouldHave: string;
  readonly reason?: string;
  readonly message?: string;
}

export interface ExplainReport {
  readonly pod: { readonly namespace: string; readonly name: string; readonly uid: string; readonly serviceAccount: string };
  readonly at: string;
  readonly requests: readonly ExplainedRequest[];
}

/** Claims that exist only on a real token; explain leaves them out rather than invent values. */
const PER_TOKEN_CLAIMS = new Set(["jti", "iat", "nbf", "exp"]);

/** The subject vector of a pod as the exchange would build it from the pod's own projected token (no actors). */
export function subjectForPod(pod: PodInfo, namespace: NamespaceInfo, cluster: ClusterInfo): Subject {
  return buildSubject({ serviceAccount: { namespace: pod.namespace, name: pod.serviceAccountName }, namespace, pod, cluster });
}

/** The requests to explain: the query's, or else one per audience the pod's annotations name (as the sidecar asks). */
export function requestsFor(query: ExplainQuery, pod: PodInfo): { audiences: string[]; scopes: string[] }[] {
  const annotated = (name: string, separator: RegExp): string[] =>
    (pod.annotations[name] ?? "").split(separator).map((s) => s.trim()).filter((s) => s !== "");
  const audiences = query.audiences.length > 0 ? [...query.audiences] : annotated(ANNOTATION_AUDIENCES, /,/);
  const scopes = query.scopes.length > 0 ? [...query.scopes] : annotated(ANNOTATION_SCOPES, /\s+/);
  return audiences.map((audience) => ({ audiences: [audience], scopes }));
}

function actorOf(sub: string): Actor {
  try {
    return { sub, iss: "", serviceAccount: parseMayAct(sub).serviceAccount };
  } catch {
    throw new AuditEndpointError("InvalidRequest", `actor '${sub}' is not a service account's subject (system:serviceaccount:NAMESPACE:NAME)`);
  }
}

/** Pure: a decision reshaped for people. */
export function explainDecision(
  decision: Decision,
  issuer: string,
  guardrails: readonly string[] = [],
  auditedGuardrails: readonly string[] = [],
): ExplainedRequest {
  const chosen = decision.policy === undefined ? undefined : policyLabel(decision.policy);
  const policies = decision.evaluations.map((evaluation): ExplainedPolicy => {
    const label = policyLabel(evaluation.policy);
    return {
      policy: label,
      generation: evaluation.policy.generation,
      chosen: label === chosen,
      selected: evaluation.selected,
      audienceAllowed: evaluation.audienceAllowed,
      conditions: evaluation.conditions.map((c) => ({ name: c.name, passed: c.passed, ...(c.message === undefined ? {} : { message: c.message }) })),
      ...(evaluation.skippedBecause === undefined ? {} : { skippedBecause: evaluation.skippedBecause }),
    };
  });
  const base = {
    request: { audiences: decision.request.audiences, scopes: decision.request.scopes },
    ...(decision.delegation === undefined ? {} : { delegation: decision.delegation }),
    allowed: decision.allowed,
    ...(decision.policy === undefined ? {} : { policy: { ref: policyLabel(decision.policy), generation: decision.policy.generation } }),
    policies,
    guardrails,
    owners: decision.audiences.map(({ conditions: _conditions, ...owner }) => owner),
    ...(decision.audit === undefined
      ? {}
      : {
          audited: decision.audit.map(({ rule, wouldHave, reason, message }): ExplainedAudit => ({
            rule: `${policyLabel(rule)}${rule.rule === "spec" ? "" : ` ${rule.rule}`}`,
            generation: rule.generation,
            wouldHave,
            ...(reason === undefined ? {} : { reason }),
            ...(message === undefined ? {} : { message }),
          })),
        }),
    ...(auditedGuardrails.length === 0 ? {} : { auditedGuardrails }),
  };
  if (!decision.allowed) return { ...base, reason: decision.reason, message: decision.message, deniedBy: decision.deniedBy, clamps: [] };
  const claims = Object.fromEntries(
    Object.entries(accessTokenClaims(decision, issuer, new Date(decision.at))).filter(([name]) => !PER_TOKEN_CLAIMS.has(name)),
  );
  const { audiences, scopes, ttlSeconds, clamps, dpopRequiredBy } = decision.grant;
  return { ...base, clamps, granted: { audiences, scopes, ttlSeconds, ...(dpopRequiredBy === undefined ? {} : { dpopRequiredBy }) }, claims };
}

export interface ExplainerOptions {
  readonly pods: PodLookup;
  readonly namespaces: NamespaceLookup;
  readonly engine: ExplainEngine;
  readonly cluster: ClusterInfo;
  readonly issuer: string;
  readonly now: () => Date;
}

/** Gathers the pod and namespace, asks the engine once per request, mints nothing and records nothing. */
export class Explainer {
  readonly #options: ExplainerOptions;

  constructor(options: ExplainerOptions) {
    this.#options = options;
  }

  async explain(query: ExplainQuery): Promise<ExplainReport> {
    const o = this.#options;
    const [pod, namespace] = await Promise.all([o.pods.get(query.namespace, query.pod), o.namespaces.get(query.namespace)]);
    if (pod === undefined || namespace === undefined) {
      throw new AuditEndpointError("PodNotFound", `pod ${query.namespace}/${query.pod} does not exist`);
    }
    const requests = requestsFor(query, pod);
    if (requests.length === 0) {
      throw new AuditEndpointError("InvalidRequest", `name an audience: the pod has no ${ANNOTATION_AUDIENCES} annotation`);
    }
    // The actors' issuer is not known here; explain shows who acts and why, which does not depend on it.
    const actors = (query.actors ?? []).map(actorOf);
    const subject = { ...subjectForPod(pod, namespace, o.cluster), actors };
    const now = o.now();
    return {
      pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid, serviceAccount: pod.serviceAccountName },
      at: now.toISOString(),
      requests: requests.map((request) => {
        const { decision, guardrails, auditedGuardrails } = o.engine.explain({ subject, request, now, id: `explain-${randomUUID()}` });
        return explainDecision(decision, o.issuer, guardrails, auditedGuardrails);
      }),
    };
  }
}
