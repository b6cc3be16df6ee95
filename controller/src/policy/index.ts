// The policy engine's public API: compile, index, match, decide, explain, guardrail validation.

export { compilePolicy, refOf, rejectionOf, type CompileOptions } from "./compile.ts";
export { compilePolicySet, isTokenAudience, type CompiledPolicyList, type GovernedResource } from "./compile-set.ts";
export { compileContract, contractRefOf, type CompiledContract, type ContractCompileResult, type ContractRef } from "./audience/contract.ts";
export { canonicalAudience, audienceSpellingProblem } from "./audience/canonical.ts";
export type { NamespaceLabels } from "./audience/owner.ts";
export { contractStanding, type Standing } from "./audience/standing.ts";
export { memoizedExpressions } from "./cel/expression-memo.ts";
export type {
  CompileError,
  CompileResult,
  CompiledClaim,
  CompiledCondition,
  CompiledGrants,
  CompiledGuardrails,
  CompiledPolicy,
  CompiledSubjects,
  RejectedPolicy,
} from "./compiled-policy.ts";
export { PolicySet } from "./policy-set.ts";
export { match, selects, type MatchResult } from "./match.ts";
export { choosePolicy, type Choice } from "./choose.ts";
export { decide, explain, type DecideInput, type ExplainInput, type Explanation } from "./decide.ts";
export { validateAgainstGuardrails, type GuardrailViolation } from "./validate.ts";
export { combineGuardrails, type EffectiveGuardrails } from "./guardrails.ts";
export { compileSelector, type CompiledSelector } from "./selector.ts";
export { formatRef } from "./refs.ts";
export { DEFAULT_TTL_SECONDS } from "./defaults.ts";
export {
  DECISION_COST_BUDGET,
  INPUT_BOUNDS,
  MAX_CLAIM_JSON_BYTES,
  MAX_COMPREHENSION_DEPTH,
  MAX_EXPRESSION_LENGTH,
  MAX_EXPRESSION_NODES,
} from "./cel/limits.ts";
export { CostMeter } from "./cel/cost-meter.ts";
export type { CompiledExpression, EvalErrorCode, EvalResult } from "./cel/expression.ts";
export type * from "./types.ts";
