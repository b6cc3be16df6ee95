// The narrow view of the policy engine that reconcile needs: compile, guardrail checks, and building the live PolicySet.
import type { AnyTokenPolicy, ClusterTokenPolicy } from "../../../api/token-policy.ts";

/** A problem located in a policy, e.g. { path: "spec.claims[0].expression", message: "undeclared reference ..." }. */
export interface PathMessage {
  readonly path: string;
  readonly message: string;
}

export type CompileOutcome<TCompiled> =
  | { readonly ok: true; readonly compiled: TCompiled }
  | { readonly ok: false; readonly errors: readonly PathMessage[] };

export interface PolicyEngine<TCompiled, TSet> {
  compile(policy: AnyTokenPolicy): CompileOutcome<TCompiled>;
  /** Violations of the guardrails the cluster policies set (empty when within them). */
  guardrailViolations(policy: AnyTokenPolicy, clusterPolicies: readonly ClusterTokenPolicy[]): readonly PathMessage[];
  buildSet(compiled: readonly TCompiled[]): TSet;
}
