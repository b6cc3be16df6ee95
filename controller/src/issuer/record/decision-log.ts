// Decision records: one structured, redacted JSON log line per issuance decision, allowed or denied.

import type { Logger } from "pino";
import type { PolicyRef } from "../../../../api/token-policy.ts";
import type { AudienceEvaluation, AuditRecord, Decision, PolicyEvaluation, Subject } from "../../policy/types.ts";
import type { DecisionRecorder } from "./decision-recorder.ts";
import { redact } from "./redaction.ts";

/** The constant message of every decision record: search the logs for it. */
export const DECISION_LOG_MESSAGE = "token decision";

/** "TokenPolicy/ns/name" or "ClusterTokenPolicy/name": the one spelling of a policy in logs, metrics and explain. */
export function policyLabel(ref: { readonly kind: PolicyRef["kind"] | "TokenAudience"; readonly namespace?: string | undefined; readonly name: string }): string {
  return ref.namespace === undefined ? `${ref.kind}/${ref.name}` : `${ref.kind}/${ref.namespace}/${ref.name}`;
}

/**
 * Annotation keys one record lists. Whoever creates a pod chooses how many it has (20,000 fit in Kubernetes'
 * 256 KiB): listing them all made each record of such a pod cost the issuer about 6 ms. Policies may read no more
 * than 128 (INPUT_BOUNDS.mapEntries), so the first 128 show what they saw; the rest are counted.
 */
const MAX_RECORDED_ANNOTATION_KEYS = 128;

/** The subject vector as recorded: pod annotations are reduced to their keys (they can be large and free-form). */
function recordedSubject(subject: Subject): Record<string, unknown> {
  const keys = Object.keys(subject.pod.annotations);
  const omitted = keys.length - MAX_RECORDED_ANNOTATION_KEYS;
  return {
    serviceAccount: subject.serviceAccount,
    namespace: subject.namespace,
    pod: {
      name: subject.pod.name,
      uid: subject.pod.uid,
      labels: subject.pod.labels,
      annotationKeys: omitted > 0 ? keys.slice(0, MAX_RECORDED_ANNOTATION_KEYS) : keys,
      ...(omitted > 0 ? { annotationKeysOmitted: omitted } : {}),
      ...(subject.pod.nodeName === undefined ? {} : { nodeName: subject.pod.nodeName }),
      ...(subject.pod.owner === undefined ? {} : { owner: subject.pod.owner }),
    },
    cluster: subject.cluster,
    actors: subject.actors.map((actor) => ({
      sub: actor.sub,
      iss: actor.iss,
      ...(actor.serviceAccount === undefined ? {} : { serviceAccount: actor.serviceAccount }),
    })),
  };
}

/** One line per evaluated policy: enough to see why each candidate was or was not used. */
function evaluationSummary(evaluation: PolicyEvaluation): Record<string, unknown> {
  const failed = evaluation.conditions.filter((condition) => !condition.passed).map((condition) => condition.name);
  return {
    policy: policyLabel(evaluation.policy),
    generation: evaluation.policy.generation,
    selected: evaluation.selected,
    audienceAllowed: evaluation.audienceAllowed,
    conditionsPassed: evaluation.conditions.length - failed.length,
    conditionsFailed: failed,
    ...(evaluation.skippedBecause === undefined ? {} : { skippedBecause: evaluation.skippedBecause }),
  };
}

function audienceSummary(evaluation: AudienceEvaluation): Record<string, unknown> {
  const { audience, ownedBy, assignedBy, contract, ownerTeam, ownerContact, admittedBy, scopesAdmitted } = evaluation;
  return {
    audience,
    ownedBy,
    ...(assignedBy === undefined ? {} : { assignedBy }),
    ...(contract === undefined ? {} : { contract: `TokenAudience/${contract.namespace}/${contract.name}`, contractGeneration: contract.generation }),
    ...(ownerTeam === undefined ? {} : { ownerTeam }),
    ...(ownerContact === undefined ? {} : { ownerContact }),
    ...(admittedBy === undefined ? {} : { admittedBy }),
    ...(scopesAdmitted === undefined ? {} : { scopesAdmitted }),
  };
}

function auditSummary(record: AuditRecord): Record<string, unknown> {
  const { rule, wouldHave, reason, message } = record;
  return {
    rule: `${policyLabel(rule)}${rule.rule === "spec" ? "" : ` ${rule.rule}`}`,
    generation: rule.generation,
    wouldHave,
    ...(reason === undefined ? {} : { reason }),
    ...(message === undefined ? {} : { message }),
  };
}

/** The decision record's fields (before redaction); pure, exported for tests and for explain's raw view. */
export function decisionRecord(decision: Decision, outcome: { jti?: string }): Record<string, unknown> {
  const common = {
    decisionId: decision.allowed && outcome.jti !== undefined ? outcome.jti : decision.id,
    at: decision.at,
    allowed: decision.allowed,
    subject: recordedSubject(decision.subject),
    requested: { audiences: decision.request.audiences, scopes: decision.request.scopes },
    // Only the policies that select the subject could have granted it, so only they are listed; the others are
    // counted. A cluster with 50 ClusterTokenPolicies otherwise wrote 13 KB per decision (docs/benchmarks.md),
    // and why each one did not select a subject is what explain answers.
    evaluations: decision.evaluations.filter((evaluation) => evaluation.selected).map(evaluationSummary),
    notSelecting: decision.evaluations.reduce((count, evaluation) => (evaluation.selected ? count : count + 1), 0),
    // The owner side: who owns each audience and what its contract admitted, so a record names both parties.
    audienceOwners: decision.audiences.map(audienceSummary),
    // Audited rules that could apply and what each would have done; absent when none could (docs/issuer.md).
    ...(decision.audit === undefined ? {} : { audit: decision.audit.map(auditSummary) }),
  };
  if (decision.allowed) {
    return {
      ...common,
      policy: { ...decision.policy, ref: policyLabel(decision.policy) },
      granted: {
        audiences: decision.grant.audiences,
        scopes: decision.grant.scopes,
        ttlSeconds: decision.grant.ttlSeconds,
        claims: decision.grant.claims,
      },
      clamps: decision.grant.clamps,
    };
  }
  return {
    ...common,
    reason: decision.reason,
    deniedBy: decision.deniedBy,
    message: decision.message,
    ...(decision.policy === undefined ? {} : { policy: { ...decision.policy, ref: policyLabel(decision.policy) } }),
  };
}

/** Writes decision records through an injected pino logger, redacting anything token- or key-shaped. */
export class DecisionLog implements DecisionRecorder {
  readonly #logger: Logger;

  constructor(options: { logger: Logger }) {
    // Every record passes redact() first, which censors by shape at any depth and by field name where the root
    // logger's paths reach; running pino's path redaction again cost about 6 % of an exchange's CPU (docs/benchmarks.md).
    this.#logger = options.logger.child({}, { redact: { paths: [] } });
  }

  record(decision: Decision, outcome: { jti?: string }): void {
    const fields = redact(decisionRecord(decision, outcome)) as Record<string, unknown>;
    this.#logger.info(fields, DECISION_LOG_MESSAGE);
  }
}

/**
 * One recorder that hands each decision to several (log, metrics, events). A failing recorder is logged and
 * skipped: auditing side effects never fail an issuance.
 */
export function combineRecorders(logger: Logger, recorders: readonly DecisionRecorder[]): DecisionRecorder {
  return {
    record(decision, outcome) {
      for (const recorder of recorders) {
        try {
          recorder.record(decision, outcome);
        } catch (error) {
          logger.error({ err: error instanceof Error ? error.message : String(error), decisionId: decision.id }, "decision recorder failed");
        }
      }
    },
  };
}
