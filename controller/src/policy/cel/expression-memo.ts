// A bounded memo in front of compileExpression, so policies with the same expression share one planned program.
import { compileExpression, type ExpressionCompiler, type ExpressionResult, type ExpressionUse } from "./expression.ts";

/** Distinct (use, source) pairs kept; each is a few KB, and one still used by a policy lives on in that policy. */
export const DEFAULT_EXPRESSION_MEMO_SIZE = 4096;

/**
 * Compiling is pure (one fixed environment, no I/O) and a compiled expression keeps no state between evaluations,
 * so one result can serve every policy that spells the same expression for the same use. Charts and templates
 * stamp out the same claims and conditions in every namespace: over 950 such TokenPolicies this kept one program
 * where there were 950, about 10 KB per policy, and skipped re-parsing each. Least recently used entries go first.
 */
export function memoizedExpressions(limit = DEFAULT_EXPRESSION_MEMO_SIZE, compile: ExpressionCompiler = compileExpression): ExpressionCompiler {
  const memo = new Map<string, ExpressionResult>();
  return (source: string, use: ExpressionUse): ExpressionResult => {
    const key = `${use}\u0000${source}`;
    const hit = memo.get(key);
    if (hit !== undefined) {
      memo.delete(key);
      memo.set(key, hit);
      return hit;
    }
    const result = compile(source, use);
    memo.set(key, result);
    if (memo.size > limit) {
      const oldest = memo.keys().next();
      if (oldest.done !== true) memo.delete(oldest.value);
    }
    return result;
  };
}
