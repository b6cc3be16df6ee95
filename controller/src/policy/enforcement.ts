// Enforcement (Enforce | Audit): reading the field, naming each auditable rule, and which rules a decision applies.
//
// An auditable rule is a whole resource (a TokenPolicy, a ClusterTokenPolicy with its grants and guardrails, a
// TokenAudience) or one condition of it. Each has a key. A decision applies every enforced rule; an audited rule
// is applied only in the one counterfactual decision that asks "what if this rule were enforced?" (asEnforced).

import { ENFORCEMENT_AUDIT, ENFORCEMENT_ENFORCE } from "../../../api/constants.ts";
import type { CompileError } from "./compile-error.ts";

/** Which rule, if any, a decision treats as enforced although it is audited; undefined for the real decision. */
export type AsEnforced = string | undefined;

/** Reads an enforcement field; true when it says Audit. A value other than Enforce, Audit or absent is an error. */
export function readAudited(value: unknown, path: string, errors: CompileError[]): boolean {
  if (value === undefined || value === ENFORCEMENT_ENFORCE) return false;
  if (value === ENFORCEMENT_AUDIT) return true;
  errors.push({ path, message: `enforcement is ${ENFORCEMENT_ENFORCE} or ${ENFORCEMENT_AUDIT}, not ${JSON.stringify(value)}` });
  return false;
}

/** An audited condition as decisions and status name it. */
export interface AuditedCondition {
  /** The rule's key, unique in the cluster. */
  readonly key: string;
  /** Its field within the resource, by name: spec.conditions[NAME] or spec.callers[CALLER].conditions[NAME]. */
  readonly rule: string;
}

/** Does a decision apply this resource? Enforced ones always; an audited one only when it is the rule asked about. */
export function resourceApplies(
  resource: { readonly audited?: boolean; readonly ref: { readonly kind: string; readonly namespace?: string; readonly name: string } },
  asEnforced: AsEnforced,
): boolean {
  return resource.audited !== true || (asEnforced !== undefined && resourceRuleKey(resource.ref) === asEnforced);
}

/** Does a decision apply this condition? The same rule as resourceApplies. */
export function conditionApplies(condition: { readonly audit?: AuditedCondition }, asEnforced: AsEnforced): boolean {
  return condition.audit === undefined || condition.audit.key === asEnforced;
}

/** The key of a whole resource: Kind/name or Kind/namespace/name. */
export function resourceRuleKey(ref: { readonly kind: string; readonly namespace?: string; readonly name: string }): string {
  return ref.namespace === undefined ? `${ref.kind}/${ref.name}` : `${ref.kind}/${ref.namespace}/${ref.name}`;
}

/** Names an audited condition of a resource; `rule` is its field by name, e.g. spec.conditions[tenant-labelled]. */
export function auditedCondition(resource: { readonly kind: string; readonly namespace?: string; readonly name: string }, rule: string): AuditedCondition {
  return { key: `${resourceRuleKey(resource)}#${rule}`, rule };
}

/** The rule name of a whole resource in audit records and status. */
export const WHOLE_RESOURCE_RULE = "spec";
