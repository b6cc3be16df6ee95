// The narrow view of the policy engine that reconcile needs: compile, guardrail checks, and building the live PolicySet.
import type { AnyTokenPolicy } from "../../../api/token-policy.ts";

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
  /**
   * Guardrail violations that make the policy unacceptable (empty when within every guardrail), judged against the
   * live set (which holds the cluster policies' guardrails) and the labels of the policy's namespace.
   */
  guardrailViolations(compiled: TCompiled, set: TSet, namespaceLabels: Readonly<Record<string, string>>): readonly PathMessage[];
  buildSet(compiled: readonly TCompiled[]): TSet;
}
