// Policy expressions: the type checker, the `namespace` variable CEL reserves, and claim values as JSON.

import { describe, expect, it } from "vitest";
import { CostMeter } from "../../../controller/src/policy/cel/cost-meter.ts";
import { compileExpression, toClaimValue } from "../../../controller/src/policy/cel/expression.ts";
import { rewriteReservedVariables } from "../../../controller/src/policy/cel/reserved-names.ts";
import { bindingsFor } from "../../../controller/src/policy/cel/variables.ts";
import { request, saActor, subject } from "./fixtures.ts";

const bindings = bindingsFor(
  subject({ owner: { apiVersion: "batch/v1", kind: "Job", name: "deploy-42" }, actors: [saActor("agents", "planner")] }),
  request(["https://ledger.internal"], ["read", "write"]),
);

function evaluate(source: string): unknown {
  const compiled = compileExpression(source, "claim");
  if (!compiled.ok) throw new Error(compiled.message);
  const result = compiled.expression.evaluate(bindings, new CostMeter());
  if (!result.ok) throw new Error(result.error);
  const json = toClaimValue(result.value);
  if (!json.ok) throw new Error(json.error);
  return json.value;
}

describe("claim expressions evaluate to JSON over the subject", () => {
  it.each([
    ['namespace.labels["tessera.dev/tenant"]', "acme"],
    ['"namespace:" + namespace.name', "namespace:payments"],
    ["serviceAccount.namespace + '/' + serviceAccount.name", "payments/api"],
    ["pod.owner.kind", "Job"],
    ['pod.owner.apiVersion + " " + pod.owner.kind + "/" + pod.owner.name', "batch/v1 Job/deploy-42"],
    ["size(request.scopes)", 2],
    ["request.scopes.filter(s, s != 'write')", ["read"]],
    ["actors.map(a, a.serviceAccount.name)", ["planner"]],
    ['{"env": cluster.environment, "n": 1.5}', { env: "prod", n: 1.5 }],
    ['"prod" in [cluster.environment] ? namespace.name.upperAscii() : ""', "PAYMENTS"],
    ["null", null],
  ])("%s", (source, expected) => {
    expect(evaluate(source)).toEqual(expected);
  });

  it("refuses a value JSON cannot hold exactly", () => {
    expect(() => evaluate("9007199254740993")).toThrow("does not fit a JSON number exactly");
  });

  it("refuses a map with non-string keys at evaluation when its type was dyn", () => {
    expect(() => evaluate("dyn({1: 'a'})")).toThrow("map keys of a claim value must be strings");
  });

  it("refuses a claim value larger than 4 KiB of JSON", () => {
    const big = `[1, 2, 3, 4, 5].map(i, "${"x".repeat(1100)}")`;
    expect(() => evaluate(big)).toThrow("bytes of JSON, at most 4096");
  });
});

describe("the type checker", () => {
  it.each([
    ["a map indexed with the wrong key type", "pod.labels[1]", "found no matching overload for '[ ]'"],
    ["a list used as a map", "request.scopes.tenant", "does not support field selection"],
    ["a comprehension over a string", 'pod.name.all(c, c == "a")', "cannot be the range of a comprehension"],
    ["message construction", "tessera.Pod{name: 'x'}", "undeclared reference to message"],
    ["a non-bool operand of &&", 'pod.name && true', "operand of && must be bool"],
    ["a ternary with a non-bool condition", 'pod.name ? 1 : 2', "condition of ?: must be bool"],
    ["an owner field the subject vector does not have", "pod.owner.uid", "undefined field 'uid' of tessera.PodOwner (fields: apiVersion, kind, name)"],
  ])("rejects %s", (_name, source, message) => {
    const result = compileExpression(source, "claim");
    expect(result.ok ? "compiled" : result.message).toContain(message);
  });

  it("points at the column of the error in the author's source, across the namespace rewrite", () => {
    const result = compileExpression("namespace.name + namespace.nme", "claim");
    expect(result.ok ? "" : result.message).toBe("undefined field 'nme' of tessera.Namespace (fields: name, labels) (column 27)");
  });

  it("reports a runtime error for an absent optional field, which has() guards", () => {
    const compiled = compileExpression("pod.owner.kind", "claim");
    if (!compiled.ok) throw new Error(compiled.message);
    const noOwner = bindingsFor(subject(), request());
    expect(compiled.expression.evaluate(noOwner, new CostMeter()).ok).toBe(false);
    const guarded = compileExpression('has(pod.owner) ? pod.owner.kind : "none"', "claim");
    expect(guarded.ok && guarded.expression.evaluate(noOwner, new CostMeter())).toEqual({ ok: true, value: "none" });
  });
});

describe("the namespace variable", () => {
  it.each([
    ["a standalone identifier", "namespace.name", "__namespace__.name"],
    ["a field named namespace", "serviceAccount.namespace", "serviceAccount.namespace"],
    ["a field after spaces", "serviceAccount . namespace", "serviceAccount . namespace"],
    ["inside a string", '"namespace" + namespace.name', '"namespace" + __namespace__.name'],
    ["inside a string with an escaped quote", '"a\\" namespace" == namespace.name', '"a\\" namespace" == __namespace__.name'],
    ["inside a raw string", "r'namespace' == namespace.name", "r'namespace' == __namespace__.name"],
    ["inside a triple-quoted string", '"""x "namespace" y""" == namespace.name', '"""x "namespace" y""" == __namespace__.name'],
    ["inside a comment", "namespace.name // namespace\n== 'a'", "__namespace__.name // namespace\n== 'a'"],
    ["a longer identifier", "namespaces.size()", "namespaces.size()"],
  ])("is rewritten only as %s should be", (_name, source, expected) => {
    expect(rewriteReservedVariables(source).source).toBe(expected);
  });
});
