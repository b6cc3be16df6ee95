// The narrow view of the policy engine that reconcile needs: compile, guardrail checks, and building the live PolicySet.
import type { GovernedResource } from "../../../api/token-audience.ts";

/** A problem located in a policy, e.g. { path: "spec.claims[0].expression", message: "undeclared reference ..." }. */
export interface PathMessage {
  readonly path: string;
  readonly message: string;
}

export type CompileOutcome<TCompiled, TRejected = unknown> =
  | { readonly ok: true; readonly compiled: TCompiled }
  | { readonly ok: false; readonly errors: readonly PathMessage[]; readonly rejected: TRejected };

export interface PolicyEngine<TCompiled, TSet, TRejected = unknown> {
  compile(resource: GovernedResource): CompileOutcome<TCompiled, TRejected>;
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
  /**
   * For a compiled TokenAudience: does it decide for its audience in this set (its namespace is the one assigned the
   * audience, and nothing contests it)? Undefined for anything else. `namespaceLabels` reads the namespace cache.
   */
  contractStanding(
    compiled: TCompiled,
    set: TSet,
    namespaceLabels: (namespace: string) => Readonly<Record<string, string>> | undefined,
  ): ContractStanding | undefined;
}

/** Whether a contract is in force, and why not when it is not: the TokenAudience's Owner condition. */
export interface ContractStanding {
  readonly owner: boolean;
  readonly reason: string;
  readonly message: string;
}
