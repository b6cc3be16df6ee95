// Pure: the status.audit part and the Audited condition of a resource with audited rules, from the issuer's tally.
import { CONDITION_AUDITED, ENFORCEMENT_AUDIT } from "../../../api/constants.ts";
import type { AuditExample, AuditStatus, Condition } from "../../../api/token-policy.ts";
import { setCondition } from "./conditions.ts";

/** Recent requests kept in status.audit.examples. */
export const AUDIT_STATUS_EXAMPLES = 5;
/** Least time between two audit-driven status writes of one resource. */
export const AUDIT_STATUS_INTERVAL_MS = 10_000;

export const REASON_WOULD_CHANGE = "WouldChangeRequests";
export const REASON_NO_CHANGE_SEEN = "NoChangeSeen";

export interface AuditCounts {
  readonly wouldHaveDenied: number;
  readonly wouldHaveClamped: number;
  readonly wouldHaveGranted: number;
}

/** What the issuer counted for one generation, its stored base included (audit-tracker.ts). */
export interface AuditTally {
  readonly counts: AuditCounts;
  /** Newest first. */
  readonly examples: readonly AuditExample[];
  readonly lastChangeTime?: string;
}

/** What in a resource is audited: the whole of it (spec.enforcement), and audited conditions by field name. */
export interface AuditedParts {
  readonly whole: boolean;
  readonly conditions: readonly string[];
}

interface RawCondition {
  readonly name?: unknown;
  readonly enforcement?: unknown;
}

/** Reads what is audited from a resource's spec as stored (any of the three kinds); undefined when nothing is. */
export function auditedParts(spec: unknown): AuditedParts | undefined {
  if (typeof spec !== "object" || spec === null) return undefined;
  const s = spec as { enforcement?: unknown; conditions?: unknown; callers?: unknown };
  const conditions: string[] = [];
  for (const c of list(s.conditions) as readonly RawCondition[]) {
    if (c.enforcement === ENFORCEMENT_AUDIT) conditions.push(`spec.conditions[${String(c.name)}]`);
  }
  for (const caller of list(s.callers) as readonly { name?: unknown; conditions?: unknown }[]) {
    for (const c of list(caller.conditions) as readonly RawCondition[]) {
      if (c.enforcement === ENFORCEMENT_AUDIT) conditions.push(`spec.callers[${String(caller.name)}].conditions[${String(c.name)}]`);
    }
  }
  const whole = s.enforcement === ENFORCEMENT_AUDIT;
  return whole || conditions.length > 0 ? { whole, conditions } : undefined;
}

function list(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

/** Counts of the stored status when they are for this generation (the base a new leader adopts). */
export function storedCounts(audit: AuditStatus | undefined, generation: number): AuditCounts | undefined {
  if (audit?.observedGeneration !== generation) return undefined;
  return { wouldHaveDenied: audit.wouldHaveDenied, wouldHaveClamped: audit.wouldHaveClamped, wouldHaveGranted: audit.wouldHaveGranted };
}

/**
 * The conditions and status.audit a resource should have: both gone when nothing in it is audited; otherwise the
 * tally (or what the status holds for this generation, or zeros for a new one) and an Audited condition saying
 * what enforcing would change and which field to switch.
 */
export function decideAuditStatus(
  current: { readonly conditions?: readonly Condition[]; readonly audit?: AuditStatus } | undefined,
  conditions: readonly Condition[],
  parts: AuditedParts | undefined,
  tally: AuditTally | undefined,
  generation: number,
  now: Date,
): { readonly conditions: Condition[]; readonly audit?: AuditStatus } {
  if (parts === undefined) return { conditions: conditions.filter((c) => c.type !== CONDITION_AUDITED) };
  const stored = current?.audit?.observedGeneration === generation ? current.audit : undefined;
  const counts = tally?.counts ?? storedCounts(stored, generation) ?? { wouldHaveDenied: 0, wouldHaveClamped: 0, wouldHaveGranted: 0 };
  const examples = mergeExamples(tally?.examples ?? [], stored?.examples ?? []);
  const lastChangeTime = tally?.lastChangeTime ?? stored?.lastChangeTime;
  const audit: AuditStatus = {
    observedGeneration: generation,
    ...counts,
    ...(lastChangeTime === undefined ? {} : { lastChangeTime }),
    ...(examples.length === 0 ? {} : { examples }),
  };
  const what = parts.whole ? "spec.enforcement is Audit" : `${parts.conditions.join(", ")} ${parts.conditions.length === 1 ? "is" : "are"} audited`;
  const switchTo = parts.whole ? "set spec.enforcement to Enforce" : "set their enforcement to Enforce";
  const total = counts.wouldHaveDenied + counts.wouldHaveClamped + counts.wouldHaveGranted;
  const message =
    `${what}: nothing is refused, clamped or granted by ${parts.whole ? "it" : "them"}. Under generation ${generation} ` +
    `enforcing would have denied ${counts.wouldHaveDenied}, clamped ${counts.wouldHaveClamped} and granted ${counts.wouldHaveGranted} ` +
    `request(s) (status.audit has recent examples); ${switchTo} to apply ${parts.whole ? "it" : "them"}.`;
  return {
    conditions: setCondition(
      conditions,
      { type: CONDITION_AUDITED, status: "True", reason: total > 0 ? REASON_WOULD_CHANGE : REASON_NO_CHANGE_SEEN, message },
      generation,
      now,
    ),
    audit,
  };
}

/**
 * The status to send in a merge patch: a JSON merge patch keeps a field the patch leaves out, so a status that no
 * longer has `audit` says so with null.
 */
export function withAuditRemoval<S extends { readonly audit?: AuditStatus }>(status: S): S | (S & { readonly audit: null }) {
  return status.audit === undefined ? { ...status, audit: null } : status;
}

/**
 * Newest first, at most AUDIT_STATUS_EXAMPLES: this process's examples (each a distinct request), then stored ones
 * older than all of them (a previous leader's; this process's own earlier ones are among the fresh already).
 * Times have millisecond precision; two requests may still share every field, so nothing is deduplicated by value.
 */
function mergeExamples(fresh: readonly AuditExample[], stored: readonly AuditExample[]): AuditExample[] {
  const oldest = fresh.at(-1)?.time;
  const older = oldest === undefined ? stored : stored.filter((e) => Date.parse(e.time) < Date.parse(oldest));
  return [...fresh, ...older].slice(0, AUDIT_STATUS_EXAMPLES);
}
