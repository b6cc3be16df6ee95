// Pure status decision for a TokenAudience: Accepted (it compiled) and Owner (it decides for its audience).
import { CONDITION_ACCEPTED, CONDITION_OWNER } from "../../../api/constants.ts";
import type { TokenAudienceStatus } from "../../../api/token-audience.ts";
import { findCondition, setCondition } from "./conditions.ts";
import type { ContractStanding, PathMessage } from "./policy-engine.ts";
import { REASON_ACCEPTED, REASON_COMPILE_FAILED, type StatusEvent } from "./policy-status.ts";
import { decideAuditStatus, type AuditTally, type AuditedParts } from "./audit-status.ts";

export interface AudienceFacts {
  readonly generation: number | undefined;
  readonly compileErrors: readonly PathMessage[];
  /** Undefined when the contract did not compile. */
  readonly standing: ContractStanding | undefined;
  /** What in the contract is audited; undefined when everything is enforced. */
  readonly audited?: AuditedParts | undefined;
  /** What its audited rules would have changed under this generation, as the issuer counted it. */
  readonly audit?: AuditTally | undefined;
}

export interface AudienceStatusDecision {
  readonly status: TokenAudienceStatus;
  readonly changed: boolean;
  readonly events: readonly StatusEvent[];
}

const MAX_MESSAGE = 1024;

export function decideAudienceStatus(current: TokenAudienceStatus | undefined, facts: AudienceFacts, now: Date): AudienceStatusDecision {
  const accepted = facts.compileErrors.length === 0;
  const acceptedMessage = accepted
    ? "the contract compiled"
    : truncate(facts.compileErrors.map((e) => `${e.path}: ${e.message}`).join("; "));
  let conditions = setCondition(
    current?.conditions,
    { type: CONDITION_ACCEPTED, status: accepted ? "True" : "False", reason: accepted ? REASON_ACCEPTED : REASON_COMPILE_FAILED, message: acceptedMessage },
    facts.generation,
    now,
  );
  const standing = facts.standing;
  conditions = setCondition(
    conditions,
    standing === undefined
      ? { type: CONDITION_OWNER, status: "False", reason: REASON_COMPILE_FAILED, message: "a contract that does not compile decides nothing; its audience's callers are denied" }
      : { type: CONDITION_OWNER, status: standing.owner ? "True" : "False", reason: standing.reason, message: truncate(standing.message) },
    facts.generation,
    now,
  );
  const audited = decideAuditStatus(current, conditions, facts.audited, facts.audit, facts.generation ?? 0, now);
  conditions = audited.conditions;
  const status: TokenAudienceStatus = {
    ...(facts.generation === undefined ? {} : { observedGeneration: facts.generation }),
    conditions,
    ...(audited.audit === undefined ? {} : { audit: audited.audit }),
  };
  const events: StatusEvent[] = [];
  const before = findCondition(current?.conditions, CONDITION_OWNER);
  const after = findCondition(conditions, CONDITION_OWNER);
  if (after !== undefined && (before?.status !== after.status || before.reason !== after.reason)) {
    events.push({ type: after.status === "True" ? "Normal" : "Warning", reason: after.reason, message: after.message });
  }
  return { status, changed: JSON.stringify(current ?? {}) !== JSON.stringify(status), events };
}

function truncate(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 3)}...` : text;
}
