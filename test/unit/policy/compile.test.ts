// compilePolicy: CEL type errors and structural problems, each reported at its field path.

import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../../controller/src/policy/index.ts";
import { clusterPolicy, tokenPolicy } from "./fixtures.ts";
import type { AnyTokenPolicy } from "../../../api/token-policy.ts";

function errorsOf(obj: AnyTokenPolicy): string[] {
  const result = compilePolicy(obj);
  return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`);
}

const claim = (expression: string, name = "tenant") => tokenPolicy("p", { claims: [{ name, expression }] });
const condition = (expression: string) =>
  tokenPolicy("p", {
    conditions: [
      { name: "prod", expression: 'cluster.environment == "prod"', message: "prod only" },
      { name: "second", expression, message: "fails" },
    ],
  });

describe("compilePolicy type-checks every CEL expression", () => {
  it.each([
    ["an undeclared variable", claim('namspace.labels["tenant"]'), "spec.claims[0].expression: undeclared reference to 'namspace'"],
    ["a misspelt field of a declared object", claim('namespace.lables["tenant"]'), "spec.claims[0].expression: undefined field 'lables' of tessera.Namespace"],
    ["a field of the pod that does not exist", claim("pod.image"), "spec.claims[0].expression: undefined field 'image' of tessera.Pod"],
    ["an operator applied to mismatched types", claim('1 + "a"'), "spec.claims[0].expression: found no matching overload for '+' applied to '(int, string)'"],
    ["an unknown function", claim("lookup(pod.name)"), "spec.claims[0].expression: undeclared reference to 'lookup'"],
    ["a method with a wrongly typed argument", claim('pod.name.startsWith(1) ? "a" : "b"'), "spec.claims[0].expression: found no matching overload for 'startsWith'"],
    ["a syntax error", claim('namespace.name == "a" &&'), "spec.claims[0].expression: syntax error:"],
    ["a claim whose value is not JSON", claim('b"raw"'), "spec.claims[0].expression: claim value must be a JSON value, found 'bytes'"],
    ["a condition that is not bool", condition('pod.labels["app"]'), "spec.conditions[1].expression: condition must be bool, found 'string'"],
    ["a condition over a misspelt variable", condition("requests.scopes.size() > 0"), "spec.conditions[1].expression: undeclared reference to 'requests'"],
    ["a comprehension variable used outside its scope", condition('actors.exists(a, a.sub == "x") && a.sub == "y"'), "spec.conditions[1].expression: undeclared reference to 'a'"],
    ["three nested comprehensions (cost bound)", condition("request.scopes.all(a, request.scopes.all(b, request.scopes.all(c, a == b)))"), "spec.conditions[1].expression: expression nests 3 comprehensions"],
    ["an expression over the length limit", condition(`${'"a" == "a" && '.repeat(200)}true`), "spec.conditions[1].expression: expression is longer than 2048 characters"],
  ])("rejects %s", (_name, policy, expected) => {
    const errors = errorsOf(policy);
    expect(errors.some((e) => e.startsWith(expected)), errors.join("\n")).toBe(true);
  });

  it.each([
    ["a namespace label", 'namespace.labels["tessera.dev/tenant"]'],
    ["the word namespace inside a string", '"namespace-" + namespace.name'],
    ["a map built from the subject", '{"tenant": namespace.name, "sa": serviceAccount.name}'],
    ["a list from a macro", 'request.scopes.map(s, s.upperAscii())'],
    ["an optional field guarded by has()", 'has(pod.owner) ? pod.owner.kind : "none"'],
    ["string extension functions", 'pod.name.split("-")[0].lowerAscii()'],
    ["actors and their service accounts", 'actors.map(a, has(a.serviceAccount) ? a.serviceAccount.name : a.sub)'],
  ])("accepts a claim reading %s", (_name, expression) => {
    expect(errorsOf(claim(expression))).toEqual([]);
  });

  it("reports every failing expression, not just the first", () => {
    const errors = errorsOf(
      tokenPolicy("p", {
        claims: [
          { name: "a", expression: "nope" },
          { name: "b", expression: "pod.nope" },
        ],
        conditions: [{ name: "c", expression: "1", message: "m" }],
      }),
    );
    expect(errors.map((e) => e.split(":")[0])).toEqual([
      "spec.claims[0].expression",
      "spec.claims[1].expression",
      "spec.conditions[0].expression",
    ]);
  });
});

describe("compilePolicy checks what the CRD schema cannot", () => {
  it.each([
    ["default scopes outside the allowed ones", tokenPolicy("p", { scopes: { allowed: ["read"], default: ["write"] } }), "spec.scopes.default[0]"],
    ["an issuer-owned claim", claim('"x"', "sub"), "spec.claims[0].name"],
    ["a Tessera-owned claim", claim('"x"', "tessera.dev/pod"), "spec.claims[0].name"],
    ["a claim name with spaces", claim('"x"', "my claim"), "spec.claims[0].name"],
    ["the same claim twice", tokenPolicy("p", { claims: [{ name: "a", expression: '"1"' }, { name: "a", expression: '"2"' }] }), "spec.claims[1].name"],
    ["a condition without a message", tokenPolicy("p", { conditions: [{ name: "c", expression: "true", message: " " }] }), "spec.conditions[0].message"],
    ["a TokenPolicy selecting nobody in particular", tokenPolicy("p", { subjects: {} }), "spec.subjects"],
    ["an In requirement without values", tokenPolicy("p", { subjects: { podSelector: { matchExpressions: [{ key: "app", operator: "In" }] } } }), "spec.subjects.podSelector.matchExpressions[0].values"],
    ["a zero TTL", tokenPolicy("p", { ttlSeconds: 0 }), "spec.ttlSeconds"],
    ["no audiences", tokenPolicy("p", { audiences: [] }), "spec.audiences"],
    ["a delegation actor naming both kinds", tokenPolicy("p", { delegation: { actors: [{ subject: "u", serviceAccount: { namespace: "a", name: "b" } }], maxChainLength: 1 } }), "spec.delegation.actors[0]"],
    ["a delegation chain of zero", tokenPolicy("p", { delegation: { actors: [{ subject: "u" }], maxChainLength: 0 } }), "spec.delegation.maxChainLength"],
    ["a revokeBefore that is not a time", tokenPolicy("p", { revokeBefore: "yesterday" }), "spec.revokeBefore"],
    ["a missing owner team", tokenPolicy("p", { owner: { team: "" } }), "spec.owner.team"],
    ["a cluster policy with neither subjects nor guardrails", clusterPolicy("c"), "spec"],
    ["a guardrails-only cluster policy that sets audiences", clusterPolicy("c", { guardrails: {}, audiences: ["x"] }), "spec.audiences"],
    ["a cluster policy without a namespaceSelector", clusterPolicy("c", { subjects: { serviceAccounts: ["a"] } as never, audiences: ["x"] }), "spec.subjects.namespaceSelector"],
    ["a guardrail allowing and reserving one audience", clusterPolicy("c", { guardrails: { allowedAudiences: ["k"], reservedAudiences: ["k"] } }), "spec.guardrails.allowedAudiences[0]"],
  ])("rejects %s", (_name, policy, path) => {
    const result = compilePolicy(policy);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.path)).toContain(path);
  });

  it("keeps the policy reference with kind, namespace, name and generation", () => {
    const result = compilePolicy(tokenPolicy("svc", {}, "payments", 7));
    expect(result.ok && result.policy.ref).toEqual({ kind: "TokenPolicy", namespace: "payments", name: "svc", generation: 7 });
  });

  it("compiles a guardrails-only cluster policy to one that grants nothing", () => {
    const result = compilePolicy(clusterPolicy("baseline", { guardrails: { maxTtlSeconds: 300 } }));
    expect(result.ok && result.policy.grants).toBeUndefined();
    expect(result.ok && result.policy.guardrails?.spec.maxTtlSeconds).toBe(300);
  });
});
