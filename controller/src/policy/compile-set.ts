// Compiles a list of policies into one PolicySet, rejected ones kept so denials name them and broken guardrails fail closed.
//
// The controller's live set compiles incrementally (reconcile/live-policy-set.ts, memoized per generation); everything
// that holds a plain list (explain without an issuer, `tessera check`, tests) compiles it here.
import type { AnyTokenPolicy } from "../../../api/token-policy.ts";
import { compilePolicy, rejectionOf, type CompileOptions } from "./compile.ts";
import type { CompileResult, CompiledPolicy, RejectedPolicy } from "./compiled-policy.ts";
import { PolicySet } from "./policy-set.ts";

export interface CompiledPolicyList {
  readonly set: PolicySet;
  /** One result per policy, in the order given. */
  readonly results: readonly CompileResult[];
}

export function compilePolicySet(policies: readonly AnyTokenPolicy[], options: CompileOptions = {}): CompiledPolicyList {
  const results = policies.map((policy) => compilePolicy(policy, options));
  const compiled: CompiledPolicy[] = [];
  const rejected: RejectedPolicy[] = [];
  for (const result of results) {
    if (result.ok) compiled.push(result.policy);
    else rejected.push(rejectionOf(result));
  }
  return { set: PolicySet.from(compiled, rejected), results };
}
