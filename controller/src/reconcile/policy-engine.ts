// The narrow view of the policy engine that reconcile needs: compile, guardrail checks, and building the live PolicySet.
import type { AnyTokenPolicy } from "../../../api/token-policy.ts";

/** A problem located in a policy, e.g. { path: "spec.claims[0].expression", message: "undeclared reference ..." }. */
export interface PathMessage {
  readonly path: string;
  readonly message: string;
}

export type CompileOutcome<TCompiled, TRejected = unknown> =
  | { readonly ok: true; readonly compiled: TCompiled }
  | { readonly ok: false; readonly errors: readonly PathMessage[]; readonly rejected: TRejected };

export interface PolicyEngine<TCompiled, TSet, TRejected = unknown> {
  compile(policy: AnyTokenPolicy): CompileOutcome<TCompiled, TRejected>;
  /**
   * Guardrail violations that make the policy unacceptable (empty when within every guardrail), judged against the
   * live set (which holds the cluster policies' guardrails) and the labels of the policy's namespace.
   */
  guardrailViolations(compiled: TCompiled, set: TSet, namespaceLabels: Readonly<Record<string, string>>): readonly PathMessage[];
  /**
   * Builds the set from the compiled policies and the rejected ones: the engine denies with PolicyNotAccepted
   * rather than silently ignoring a broken policy (and fails closed on broken guardrails).
   */
  buildSet(compiled: readonly TCompiled[], rejected: readonly TRejected[]): TSet;
}
