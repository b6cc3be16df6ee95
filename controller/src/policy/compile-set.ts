// Compiles a list of policies into one PolicySet, rejected ones kept so denials name them and broken guardrails fail closed.
//
// The controller's live set compiles incrementally (reconcile/live-policy-set.ts, memoized per generation); everything
// that holds a plain list (explain without an issuer, `tessera check`, tests) compiles it here.
import { KIND_TOKEN_AUDIENCE } from "../../../api/constants.ts";
import type { GovernedResource, TokenAudience } from "../../../api/token-audience.ts";
import { compileContract, type CompiledContract, type ContractCompileResult } from "./audience/contract.ts";
import { compileExpression } from "./cel/expression.ts";
import { compilePolicy, rejectionOf, type CompileOptions } from "./compile.ts";
import type { CompileResult, CompiledPolicy, RejectedPolicy } from "./compiled-policy.ts";
import { PolicySet } from "./policy-set.ts";

export type { GovernedResource };

export interface CompiledPolicyList {
  readonly set: PolicySet;
  /** One result per resource, in the order given. */
  readonly results: readonly (CompileResult | ContractCompileResult)[];
}

export function isTokenAudience(resource: GovernedResource): resource is TokenAudience {
  return resource.kind === KIND_TOKEN_AUDIENCE;
}

export function compilePolicySet(resources: readonly GovernedResource[], options: CompileOptions = {}): CompiledPolicyList {
  const compiled: CompiledPolicy[] = [];
  const rejected: RejectedPolicy[] = [];
  const contracts: CompiledContract[] = [];
  const results = resources.map((resource) => {
    if (isTokenAudience(resource)) {
      const result = compileContract(resource, options.expressions ?? compileExpression);
      if (result.ok) contracts.push(result.contract);
      return result;
    }
    const result = compilePolicy(resource, options);
    if (result.ok) compiled.push(result.policy);
    else rejected.push(rejectionOf(result));
    return result;
  });
  return { set: PolicySet.from(compiled, rejected, contracts), results };
}
