// memoizedExpressions: policies spelling the same expression share one compiled program, with the same results.
import { describe, expect, it } from "vitest";
import { compileExpression, type ExpressionUse } from "../../../controller/src/policy/cel/expression.ts";
import { memoizedExpressions } from "../../../controller/src/policy/cel/expression-memo.ts";
import { compilePolicy, type CompiledPolicy } from "../../../controller/src/policy/index.ts";
import { tokenPolicy } from "./fixtures.ts";

/** compileExpression, counting how often it really compiles. */
function counting(): { compile: typeof compileExpression; calls: () => number } {
  let calls = 0;
  return {
    compile: (source: string, use: ExpressionUse) => {
      calls++;
      return compileExpression(source, use);
    },
    calls: () => calls,
  };
}

const shared = {
  claims: [{ name: "tier", expression: 'pod.labels["tier"]' }],
  conditions: [{ name: "labelled", expression: '"tier" in pod.labels', message: "pods need a tier label" }],
};

function grantsOf(policy: CompiledPolicy) {
  if (policy.grants === undefined) throw new Error("no grants");
  return policy.grants;
}

describe("memoizedExpressions", () => {
  it("compiles an expression once for every policy that spells it the same way", () => {
    const counter = counting();
    const expressions = memoizedExpressions(16, counter.compile);
    const results = ["a", "b", "c"].map((ns) => compilePolicy(tokenPolicy("p", shared, ns), { expressions }));
    expect(counter.calls()).toBe(2);
    const compiled = results.map((r) => (r.ok ? r.policy : undefined)).filter((p) => p !== undefined);
    expect(compiled).toHaveLength(3);
    const [first, ...rest] = compiled.map(grantsOf);
    for (const grants of rest) {
      expect(grants.claims[0]?.expression).toBe(first?.claims[0]?.expression);
      expect(grants.conditions[0]?.expression).toBe(first?.conditions[0]?.expression);
    }
  });

  it.each([
    { name: "the same source used as a claim and as a condition is compiled for each use", a: ['"x" in pod.labels', "claim"], b: ['"x" in pod.labels', "condition"], calls: 2 },
    { name: "different sources are compiled apart", a: ['pod.labels["a"]', "claim"], b: ['pod.labels["b"]', "claim"], calls: 2 },
    { name: "the same source for the same use is compiled once", a: ['pod.labels["a"]', "claim"], b: ['pod.labels["a"]', "claim"], calls: 1 },
  ] as const)("$name", ({ a, b, calls }) => {
    const counter = counting();
    const expressions = memoizedExpressions(16, counter.compile);
    expressions(a[0], a[1]);
    expressions(b[0], b[1]);
    expect(counter.calls()).toBe(calls);
  });

  it("gives the same answers as compiling afresh, errors included", () => {
    const expressions = memoizedExpressions(16);
    for (const [source, use] of [
      ['pod.labels["tier"]', "claim"],
      ["1 +", "claim"],
      ['pod.labels["tier"]', "condition"],
      ["pod.name", "condition"],
    ] as const) {
      const fresh = compileExpression(source, use);
      const memo = expressions(source, use);
      expressions(source, use);
      if (fresh.ok && memo.ok) expect({ source: memo.expression.source, type: memo.expression.type }).toEqual({ source: fresh.expression.source, type: fresh.expression.type });
      else expect(memo).toEqual(fresh);
    }
  });

  it("forgets the least recently used expression beyond its size, and compiles it again when asked", () => {
    const counter = counting();
    const expressions = memoizedExpressions(2, counter.compile);
    expressions('pod.labels["a"]', "claim");
    expressions('pod.labels["b"]', "claim");
    expressions('pod.labels["a"]', "claim");
    expressions('pod.labels["c"]', "claim");
    expect(counter.calls()).toBe(3);
    expressions('pod.labels["a"]', "claim");
    expect(counter.calls()).toBe(3);
    expressions('pod.labels["b"]', "claim");
    expect(counter.calls()).toBe(4);
  });
});
