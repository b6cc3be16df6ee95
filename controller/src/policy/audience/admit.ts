// Does an audience's contract admit this caller, and for which scopes? All caller entries are evaluated for the record.

import type { Bindings } from "../cel/variables.ts";
import type { ConditionResult, Subject } from "../types.ts";
import type { CompiledCaller, CompiledContract } from "./contract.ts";
import type { CompiledCondition } from "../compiled-policy.ts";
import { conditionApplies, type AsEnforced } from "../enforcement.ts";

export interface CallerResult {
  readonly name: string;
  /** Did the service account and namespace parts select the caller? */
  readonly selected: boolean;
  readonly conditions: readonly ConditionResult[];
  readonly admitted: boolean;
}

export interface Admission {
  readonly contract: CompiledContract;
  /** Set when a condition ran out of the decision's CEL budget: the contract's answer is unknown, so it denies. */
  readonly costLimitExceeded?: { readonly caller: string; readonly condition: ConditionResult };
  readonly callers: readonly CallerResult[];
  /** Scopes the admitting entries together allow. */
  readonly scopes: ReadonlySet<string>;
  readonly admitted: boolean;
}

export type ConditionEvaluator = (
  condition: CompiledCondition,
  bindings: Bindings,
) => { readonly result: ConditionResult; readonly costLimitExceeded: boolean };

export function admit(
  contract: CompiledContract,
  subject: Subject,
  bindings: Bindings,
  evaluate: ConditionEvaluator,
  asEnforced?: AsEnforced,
): Admission {
  const callers: CallerResult[] = [];
  const scopes = new Set<string>();
  let costLimitExceeded: Admission["costLimitExceeded"];
  for (const caller of contract.callers) {
    const selected = selects(caller, subject);
    // Conditions of entries that do not select the caller are not run: they could not admit it anyway.
    // Audited conditions are not run here: the decision is made as if they did not exist (enforcement.ts).
    const evaluated = selected ? caller.conditions.filter((c) => conditionApplies(c, asEnforced)).map((c) => evaluate(c, bindings)) : [];
    const conditions = evaluated.map((e) => e.result);
    const over = evaluated.find((e) => e.costLimitExceeded);
    if (over !== undefined) costLimitExceeded ??= { caller: caller.name, condition: over.result };
    const admitted = selected && conditions.every((c) => c.passed);
    if (admitted) for (const scope of caller.scopes) scopes.add(scope);
    callers.push({ name: caller.name, selected, conditions, admitted });
  }
  return {
    contract,
    callers,
    scopes,
    admitted: costLimitExceeded === undefined && callers.some((c) => c.admitted),
    ...(costLimitExceeded === undefined ? {} : { costLimitExceeded }),
  };
}

function selects(caller: CompiledCaller, subject: Subject): boolean {
  const sa = subject.serviceAccount;
  if (caller.serviceAccounts !== undefined && !caller.serviceAccounts.has(`${sa.namespace}/${sa.name}`)) return false;
  return caller.namespaceSelector === undefined || caller.namespaceSelector.matches(subject.namespace.labels);
}

/** The first failed condition of an entry that selected the caller: the most useful thing to tell it. */
export function firstFailure(admission: Admission): { readonly caller: string; readonly condition: ConditionResult } | undefined {
  for (const caller of admission.callers) {
    const failed = caller.conditions.find((c) => !c.passed);
    if (caller.selected && failed !== undefined) return { caller: caller.name, condition: failed };
  }
  return undefined;
}
