// The CEL cost budget: the meter, loops and calls charged at run time, the static refusal, bounded inputs, the denial.

import { describe, expect, it } from "vitest";
import { CostMeter } from "../../../controller/src/policy/cel/cost-meter.ts";
import { compileExpression, type CompiledExpression } from "../../../controller/src/policy/cel/expression.ts";
import { regexProgramSize } from "../../../controller/src/policy/cel/cost-model.ts";
import { DECISION_COST_BUDGET, INPUT_BOUNDS } from "../../../controller/src/policy/cel/limits.ts";
import { VARIABLES, VARIABLE_SIZES, bindingsFor, type Bindings } from "../../../controller/src/policy/cel/variables.ts";
import { decide, type Decision, type Subject } from "../../../controller/src/policy/index.ts";
import { NOW, policySet, request, subject, tokenPolicy } from "./fixtures.ts";

function withAnnotations(annotations: Record<string, string>, base: Subject = subject()): Subject {
  return { ...base, pod: { ...base.pod, annotations } };
}

function annotations(count: number, value = (i: number) => `v${i}`): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`example.com/k${i}`, value(i)]));
}

function compile(source: string, use: "condition" | "claim" = "condition"): CompiledExpression {
  const result = compileExpression(source, use);
  if (!result.ok) throw new Error(result.message);
  return result.expression;
}

function bindings(s: Subject = subject()): Bindings {
  return bindingsFor(s, request(["https://ledger.internal"], ["read", "write"]));
}

describe("the cost meter", () => {
  it.each<[string, number, readonly number[], boolean[], boolean]>([
    ["charges within the budget succeed", 10, [3, 3, 4], [true, true, true], false],
    ["the charge that passes the budget fails", 10, [6, 5], [true, false], true],
    ["once spent, every later charge fails, even of nothing", 10, [11, 0, 1], [false, false, false], true],
    ["a budget of zero admits charges of zero only", 0, [0, 1], [true, false], true],
  ])("%s", (_name, budget, charges, answers, exceeded) => {
    const meter = new CostMeter(budget);
    expect(charges.map((units) => meter.charge(units))).toEqual(answers);
    expect(meter.exceeded).toBe(exceeded);
    expect(meter.remaining).toBe(Math.max(0, budget - meter.spent));
  });

  it("defaults to the decision budget", () => {
    expect(new CostMeter().budget).toBe(DECISION_COST_BUDGET);
  });

  it("refuses a budget that is not a finite number from zero up, as a caller mistake", () => {
    expect(() => new CostMeter(-1)).toThrow(TypeError);
    expect(() => new CostMeter(Number.POSITIVE_INFINITY)).toThrow(TypeError);
  });
});

describe("evaluation runs under the meter", () => {
  const full = bindings(withAnnotations(annotations(INPUT_BOUNDS.mapEntries)));

  it("charges what it evaluates, and no more than its static worst case", () => {
    const expression = compile('pod.annotations.exists(k, k.startsWith("nope"))');
    const meter = new CostMeter();
    expect(expression.evaluate(full, meter)).toEqual({ ok: true, value: false });
    expect(meter.spent).toBeGreaterThan(INPUT_BOUNDS.mapEntries);
    expect(meter.spent).toBeLessThanOrEqual(expression.worstCaseCost);
  });

  it.each([
    ["a loop stops when the budget is spent", 'pod.annotations.all(k, k != "x")'],
    ["an inner loop stops, and so does the loop around it", '["a", "b", "c"].all(x, pod.annotations.all(k, k != x))'],
    ["`|| true` cannot absorb a spent budget", 'pod.annotations.all(k, k != "x") || true'],
    ["`&& false` cannot absorb a spent budget", 'false && pod.annotations.all(k, k != "x") || pod.annotations.exists(k, k == "x")'],
    ["a conditional cannot hide a spent budget", 'pod.annotations.all(k, k != "x") ? true : true'],
    ["a spent budget is not a false exists", 'pod.annotations.exists(k, k == "x") == false'],
    ["a map builds no partial list", 'pod.annotations.map(k, k).size() >= 0'],
  ])("%s", (_name, source) => {
    const meter = new CostMeter(200);
    const result = compile(source).evaluate(full, meter);
    expect(result).toEqual({ ok: false, code: "CostLimitExceeded", error: "the decision's CEL cost budget of 200 units is spent" });
    // The loop stopped soon after: an iteration costs a few dozen units at most here.
    expect(meter.spent).toBeLessThan(300);
  });

  it("shares one budget across the expressions of a decision", () => {
    const expression = compile('pod.annotations.all(k, k != "x")');
    const once = new CostMeter();
    expression.evaluate(full, once);
    const meter = new CostMeter(once.spent * 1.5);
    expect(expression.evaluate(full, meter).ok).toBe(true);
    expect(expression.evaluate(full, meter)).toMatchObject({ ok: false, code: "CostLimitExceeded" });
    expect(compile("true").evaluate(full, meter)).toMatchObject({ ok: false, code: "CostLimitExceeded" });
  });

  it("tells other evaluation errors apart from the budget", () => {
    expect(compile('pod.annotations["missing"] == "x"').evaluate(full, new CostMeter())).toMatchObject({
      ok: false,
      code: "EvaluationFailed",
    });
  });

  it("charges string functions by the length of their input", () => {
    const short = new CostMeter();
    const long = new CostMeter();
    const expression = compile('pod.annotations["a"].replace("-", "_") != ""');
    expression.evaluate(bindings(withAnnotations({ a: "x-" })), short);
    expression.evaluate(bindings(withAnnotations({ a: "x-".repeat(2000) })), long);
    expect(long.spent - short.spent).toBeGreaterThan(100);
  });
});

describe("an expression whose worst case exceeds the budget is refused when compiled", () => {
  it.each([
    ["two nested loops over the annotations", 'pod.annotations.exists(a, pod.annotations.exists(b, a + b == "x"))'],
    ["a loop rewriting every annotation value", 'pod.annotations.all(k, pod.annotations[k].replace("-", "_") != "")'],
    ["a loop comparing the whole map on every entry", "pod.annotations.all(k, pod.annotations == pod.annotations)"],
    ["a regular expression over every annotation value", 'pod.annotations.all(k, pod.annotations[k].matches("^[a-z]+$"))'],
    ["a counted repetition RE2 expands a thousand times", 'pod.name.matches("[a-z]{1000}")'],
    ["a regular expression the pod's creator writes", 'pod.name.matches(pod.annotations["pattern"])'],
  ])("%s", (_name, source) => {
    const result = compileExpression(source, "condition");
    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.message).toMatch(
      new RegExp(`^expression may cost up to \\d+ units on the largest inputs policies may read, over the CEL cost budget of ${DECISION_COST_BUDGET} units per decision`),
    );
  });

  it.each([
    ["a lookup", 'pod.annotations["team"] == "payments"'],
    ["a loop over the annotations", 'pod.annotations.exists(k, k.startsWith("example.com/"))'],
    ["a regular expression over one annotation value", 'pod.annotations["team"].matches("^[a-z]+$")'],
    ["a DNS-label regular expression over one annotation value", 'pod.annotations["team"].matches("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")'],
    ["a short counted repetition over the pod's name", 'pod.name.matches("^[a-z]{1,10}$")'],
    ["rewriting one annotation value", 'pod.annotations["team"].replace("-", "_")'],
    ["a loop over a literal around a loop over the scopes", '["read", "write"].all(a, request.scopes.exists(b, a == b))'],
  ])("admits %s", (_name, source) => {
    const result = compileExpression(source, source.includes("replace") ? "claim" : "condition");
    expect(result.ok && result.expression.worstCaseCost).toBeLessThanOrEqual(DECISION_COST_BUDGET);
  });
});

describe("the static estimate knows every variable's size", () => {
  it("declares a size for every declared variable, so none is estimated as unbounded", () => {
    expect([...VARIABLE_SIZES.keys()].sort()).toEqual([...VARIABLES.keys()].sort());
  });
});

describe("a regular expression is weighed by the program RE2 compiles it to", () => {
  it.each<[string, string, number]>([
    ["a pattern without counts weighs its length", "^[a-z]+$", 8],
    ["a count repeats what it follows", "[a-z]{10}", 90],
    ["the upper count of a range counts", "a{2,50}", 350],
    ["an open range counts its lower bound", "a{7,}", 35],
    ["counts beyond RE2's 1000 weigh 1000", "a{5000}", 7000],
  ])("%s", (_name, pattern, size) => {
    expect(regexProgramSize(pattern)).toBe(size);
  });
});

describe("an input beyond its bound is refused to the expressions that read it, never truncated", () => {
  const many = withAnnotations(annotations(INPUT_BOUNDS.mapEntries + 1));
  const long = withAnnotations({ team: "x".repeat(INPUT_BOUNDS.annotationValueChars + 1) });
  it.each<[string, Subject, string, string]>([
    ["too many annotations, read by a lookup", many, 'pod.annotations["example.com/k0"] == "v0"', `pod.annotations has ${INPUT_BOUNDS.mapEntries + 1} entries, over the bound of ${INPUT_BOUNDS.mapEntries}`],
    ["too many annotations, read by a loop", many, "pod.annotations.all(k, k != '')", "pod.annotations has"],
    ["a value too long, read through another key", long, '"x" in pod.annotations', `pod.annotations["team"] is ${INPUT_BOUNDS.annotationValueChars + 1} characters long, over the bound of ${INPUT_BOUNDS.annotationValueChars}`],
    ["the whole pod, read through dyn", many, 'dyn(pod).name != ""', "pod.annotations has"],
  ])("%s", (_name, s, source, message) => {
    const result = compile(source).evaluate(bindings(s), new CostMeter());
    expect(result).toMatchObject({ ok: false, code: "CostLimitExceeded" });
    expect(result.ok ? "" : result.error).toContain(message);
  });

  it.each<[string, Subject, string]>([
    ["too many annotations, while the expression reads the labels", many, 'pod.labels["app"] == "api"'],
    ["a value too long, while the expression reads the pod's name", long, 'pod.name != ""'],
    ["annotations at their bound", withAnnotations(annotations(INPUT_BOUNDS.mapEntries)), 'size(pod.annotations) > 0'],
  ])("still evaluates with %s", (_name, s, source) => {
    expect(compile(source).evaluate(bindings(s), new CostMeter())).toEqual({ ok: true, value: true });
  });

  it("checks bindings it did not build itself at each evaluation", () => {
    const plain = { pod: { annotations: annotations(INPUT_BOUNDS.mapEntries + 1) } };
    expect(compile("size(pod.annotations) > 0").evaluate(plain, new CostMeter())).toMatchObject({ code: "CostLimitExceeded" });
  });
});

describe("a decision that runs out of budget is denied with CostLimitExceeded", () => {
  const loop = 'pod.annotations.all(k, k != "x")';
  const full = withAnnotations(annotations(INPUT_BOUNDS.mapEntries));
  function run(policy: Parameters<typeof tokenPolicy>[1], s: Subject, meter = new CostMeter(300)): Decision {
    return decide({ subject: s, request: request(), policies: policySet(tokenPolicy("p", policy)), now: NOW, id: "d-1", meter });
  }

  it.each<[string, Parameters<typeof tokenPolicy>[1], Subject, string]>([
    ["a condition spends it", { conditions: [{ name: "loop", expression: loop, message: "m" }] }, full, "TokenPolicy/payments/p condition 'loop' was not evaluated within the CEL cost budget"],
    ["a claim spends it", { claims: [{ name: "n", expression: `${loop} ? 1 : 2` }] }, full, "TokenPolicy/payments/p spec.claims[0] (claim 'n') was not evaluated within the CEL cost budget"],
    ["a condition reads an input beyond its bound", { conditions: [{ name: "team", expression: 'pod.annotations["team"] == "a"', message: "m" }] }, withAnnotations({ team: "x".repeat(5000) }), "it reads an input beyond its bound"],
  ])("when %s", (_name, policy, s, message) => {
    const d = run(policy, s);
    expect(d.allowed ? "allowed" : [d.reason, d.message]).toEqual(["CostLimitExceeded", expect.stringContaining(message)]);
  });

  it("even when an earlier condition failed on its own", () => {
    const d = run({ conditions: [{ name: "prod", expression: 'cluster.environment == "prod"', message: "prod only" }, { name: "loop", expression: loop, message: "m" }] }, full);
    expect(d.allowed ? "allowed" : d.reason).toBe("CostLimitExceeded");
  });

  it("grants as before within the budget", () => {
    const d = run({ conditions: [{ name: "loop", expression: loop, message: "m" }] }, full, new CostMeter());
    expect(d.allowed).toBe(true);
  });
});
