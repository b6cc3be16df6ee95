// Pure status decision for both policy kinds: facts gathered from the caches in, the status to write and Events out.
import { CONDITION_ACCEPTED, CONDITION_READY, CONDITION_WITHIN_COST_BUDGET } from "../../../api/constants.ts";
import type { PolicyStatus } from "../../../api/token-policy.ts";
import { findCondition, setCondition } from "./conditions.ts";
import type { PathMessage } from "./policy-engine.ts";
import { decideAuditStatus, type AuditTally, type AuditedParts } from "./audit-status.ts";

/** Condition reasons (CamelCase, as Kubernetes conventions ask). */
export const REASON_ACCEPTED = "Accepted";
export const REASON_COMPILE_FAILED = "CompileFailed";
export const REASON_GUARDRAIL_VIOLATION = "GuardrailViolation";
export const REASON_SERVING = "Serving";
export const REASON_NOT_ACCEPTED = "NotAccepted";
export const REASON_CONFLICT = "Conflict";
export const REASON_WITHIN_BUDGET = "WithinBudget";
export const REASON_COST_LIMIT_EXCEEDED = "CostLimitExceeded";
export const REASON_AUDITING = "Auditing";

/** The last decision under a policy denied for the CEL cost budget (CostLimitExceeded), as the issuer saw it. */
export interface CostLimitRecord {
  readonly at: Date;
  /** The generation of the policy that decided: an edit makes the record stale. */
  readonly generation: number;
  readonly message: string;
}

/** Everything the status depends on, gathered from the caches by a separate step. */
export interface StatusFacts {
  readonly generation: number | undefined;
  readonly compileErrors: readonly PathMessage[];
  readonly guardrailViolations: readonly PathMessage[];
  /** People-readable conflicts with other policies (same priority, same audience, same pod). */
  readonly conflicts: readonly string[];
  readonly podsMatched: number;
  readonly podsUninjected: number;
  readonly lastIssuance: Date | undefined;
  /** The issuer's last CostLimitExceeded denial under the policy, of whatever generation. */
  readonly costLimit?: CostLimitRecord | undefined;
  /** What in the policy is audited; undefined when everything is enforced. */
  readonly audited?: AuditedParts | undefined;
  /** What its audited rules would have changed under this generation, as the issuer counted it. */
  readonly audit?: AuditTally | undefined;
}

export interface StatusEvent {
  readonly type: "Normal" | "Warning";
  readonly reason: string;
  readonly message: string;
}

export interface StatusDecision {
  readonly status: PolicyStatus;
  readonly changed: boolean;
  readonly events: readonly StatusEvent[];
}

/** lastIssuanceTime moves only when it advanced this much, so issuance does not turn into a status-write stream. */
export const ISSUANCE_TIME_GRANULARITY_MS = 60_000;

const MAX_MESSAGE = 1024;

function describe(problems: readonly PathMessage[]): string {
  const text = problems.map((p) => `${p.path}: ${p.message}`).join("; ");
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 3)}...` : text;
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function lastIssuanceTime(current: string | undefined, observed: Date | undefined): string | undefined {
  if (observed === undefined) return current;
  if (current === undefined) return rfc3339(observed);
  const prev = Date.parse(current);
  return Number.isNaN(prev) || observed.getTime() - prev >= ISSUANCE_TIME_GRANULARITY_MS ? rfc3339(observed) : current;
}

/** Decides the status; `changed` is false when writing it would change nothing. */
export function decideStatus(current: PolicyStatus | undefined, facts: StatusFacts, now: Date): StatusDecision {
  const gen = facts.generation;
  const accepted =
    facts.compileErrors.length > 0
      ? { status: "False" as const, reason: REASON_COMPILE_FAILED, message: describe(facts.compileErrors) }
      : facts.guardrailViolations.length > 0
        ? { status: "False" as const, reason: REASON_GUARDRAIL_VIOLATION, message: describe(facts.guardrailViolations) }
        : { status: "True" as const, reason: REASON_ACCEPTED, message: "The policy compiled and is within every guardrail." };
  const ready =
    accepted.status === "False"
      ? { status: "False" as const, reason: REASON_NOT_ACCEPTED, message: "The policy is not accepted; no token is issued under it." }
      : facts.conflicts.length > 0
        ? { status: "False" as const, reason: REASON_CONFLICT, message: facts.conflicts.join("; ").slice(0, MAX_MESSAGE) }
        : facts.audited?.whole === true
          ? {
              status: "True" as const,
              reason: REASON_AUDITING,
              message: `spec.enforcement is Audit: no token is issued and nothing is limited under this policy; decisions record what it would do (${facts.podsMatched} pod(s) selected).`,
            }
          : { status: "True" as const, reason: REASON_SERVING, message: `Tokens are issued under this policy; ${facts.podsMatched} pod(s) selected.` };

  let conditions = setCondition(current?.conditions, { type: CONDITION_ACCEPTED, ...accepted }, gen, now);
  conditions = setCondition(conditions, { type: CONDITION_READY, ...ready }, gen, now);
  const budget = costBudgetCondition(facts);
  conditions = setCondition(conditions, { type: CONDITION_WITHIN_COST_BUDGET, ...budget }, gen, now);
  const audited = decideAuditStatus(current, conditions, facts.audited, facts.audit, gen ?? 0, now);
  const issued = lastIssuanceTime(current?.lastIssuanceTime, facts.lastIssuance);
  const status: PolicyStatus = {
    ...(gen === undefined ? {} : { observedGeneration: gen }),
    conditions: audited.conditions,
    ...(audited.audit === undefined ? {} : { audit: audited.audit }),
    podsMatched: facts.podsMatched,
    podsUninjected: facts.podsUninjected,
    ...(issued === undefined ? {} : { lastIssuanceTime: issued }),
  };
  const events = transitionEvents(current, accepted, ready, facts);
  if (budget.reason === REASON_COST_LIMIT_EXCEEDED && findCondition(current?.conditions, CONDITION_WITHIN_COST_BUDGET)?.reason !== REASON_COST_LIMIT_EXCEEDED) {
    events.push({ type: "Warning", reason: REASON_COST_LIMIT_EXCEEDED, message: budget.message });
  }
  return { status, changed: !statusEqual(current, status), events };
}

/** False while the issuer has denied an exchange under this very generation for the CEL cost budget. */
function costBudgetCondition(facts: StatusFacts): { status: "True" | "False"; reason: string; message: string } {
  const record = facts.costLimit;
  if (record !== undefined && record.generation === facts.generation) {
    return {
      status: "False",
      reason: REASON_COST_LIMIT_EXCEEDED,
      message: `An exchange under this generation was denied: ${record.message}`.slice(0, MAX_MESSAGE),
    };
  }
  return {
    status: "True",
    reason: REASON_WITHIN_BUDGET,
    message: "No exchange under this generation of the policy has run out of the CEL cost budget.",
  };
}

/** Events only on a transition into a state a person should see; the persisted status is the memory, so restarts do not repeat them. */
function transitionEvents(
  current: PolicyStatus | undefined,
  accepted: { reason: string; message: string },
  ready: { reason: string; message: string },
  facts: StatusFacts,
): StatusEvent[] {
  const events: StatusEvent[] = [];
  const before = findCondition(current?.conditions, CONDITION_ACCEPTED);
  const readyBefore = findCondition(current?.conditions, CONDITION_READY);
  const acceptedChanged = before?.reason !== accepted.reason;
  // An edit that trades one failure for a different one is news too; the same failure re-reconciled is not.
  const newFailureAfterEdit =
    before !== undefined &&
    accepted.reason !== REASON_ACCEPTED &&
    before.observedGeneration !== facts.generation &&
    before.message !== accepted.message;
  if (acceptedChanged || newFailureAfterEdit) {
    if (accepted.reason === REASON_COMPILE_FAILED) events.push({ type: "Warning", reason: "PolicyCompileFailed", message: accepted.message });
    else if (accepted.reason === REASON_GUARDRAIL_VIOLATION) events.push({ type: "Warning", reason: "GuardrailViolation", message: accepted.message });
    else if (before !== undefined && before.reason !== REASON_ACCEPTED) events.push({ type: "Normal", reason: "PolicyAccepted", message: accepted.message });
  }
  if (ready.reason === REASON_CONFLICT && readyBefore?.reason !== REASON_CONFLICT) {
    events.push({ type: "Warning", reason: "PolicyConflict", message: ready.message });
  }
  return events;
}

/** Semantic equality of two statuses (key order and absent-vs-undefined do not matter). */
export function statusEqual(a: PolicyStatus | undefined, b: PolicyStatus | undefined): boolean {
  return canonical(a ?? {}) === canonical(b ?? {});
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
