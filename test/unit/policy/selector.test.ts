// Label selectors: matchLabels and the four matchExpressions operators, as Kubernetes defines them.

import { describe, expect, it } from "vitest";
import type { LabelSelector } from "../../../api/token-policy.ts";
import { compileSelector } from "../../../controller/src/policy/index.ts";
import { labelSelectorMatcher } from "../../../controller/src/policy/selector.ts";

function matches(selector: LabelSelector, labels: Record<string, string>): boolean {
  const result = compileSelector(selector, "sel");
  if (!result.ok) throw new Error("selector does not compile");
  return result.selector.matches(labels);
}

describe("label selectors", () => {
  it.each([
    ["an empty selector matches any labels", {}, { a: "1" }, true],
    ["an empty selector matches no labels at all", {}, {}, true],
    ["matchLabels needs every label equal", { matchLabels: { app: "api", tier: "web" } }, { app: "api", tier: "web", x: "y" }, true],
    ["matchLabels fails on one different value", { matchLabels: { app: "api", tier: "web" } }, { app: "api", tier: "db" }, false],
    ["In matches a listed value", { matchExpressions: [{ key: "env", operator: "In", values: ["prod", "staging"] }] }, { env: "prod" }, true],
    ["In fails when the label is absent", { matchExpressions: [{ key: "env", operator: "In", values: ["prod"] }] }, {}, false],
    ["NotIn matches when the label is absent", { matchExpressions: [{ key: "env", operator: "NotIn", values: ["prod"] }] }, {}, true],
    ["NotIn fails on a listed value", { matchExpressions: [{ key: "env", operator: "NotIn", values: ["prod"] }] }, { env: "prod" }, false],
    ["Exists matches an empty value", { matchExpressions: [{ key: "team", operator: "Exists" }] }, { team: "" }, true],
    ["DoesNotExist fails when present", { matchExpressions: [{ key: "team", operator: "DoesNotExist" }] }, { team: "x" }, false],
    [
      "matchLabels and matchExpressions are ANDed",
      { matchLabels: { app: "api" }, matchExpressions: [{ key: "env", operator: "In", values: ["prod"] }] },
      { app: "api", env: "dev" },
      false,
    ],
    ["a label named like an Object method is not inherited", { matchExpressions: [{ key: "constructor", operator: "Exists" }] }, {}, false],
  ] as const)("%s", (_name, selector, labels, expected) => {
    expect(matches(selector as LabelSelector, labels)).toBe(expected);
  });

  it.each([
    ["In without values", { key: "a", operator: "In" }, "sel.matchExpressions[0].values"],
    ["Exists with values", { key: "a", operator: "Exists", values: ["x"] }, "sel.matchExpressions[0].values"],
    ["an unknown operator", { key: "a", operator: "Equals" }, "sel.matchExpressions[0].operator"],
  ])("rejects %s", (_name, requirement, path) => {
    const result = compileSelector({ matchExpressions: [requirement as never] }, "sel");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]?.path).toBe(path);
  });
});

describe("labelSelectorMatcher, the rule status counts and the issuer share", () => {
  it.each([
    ["an absent selector matches any labels", undefined, { a: "1" }, true],
    ["a valid selector matches as compiled", { matchLabels: { a: "1" } }, { a: "1" }, true],
    ["a valid selector refuses labels it does not match", { matchLabels: { a: "1" } }, { a: "2" }, false],
    ["In without values does not compile and matches nothing", { matchExpressions: [{ key: "a", operator: "In" as const, values: [] }] }, { a: "1" }, false],
    ["NotIn without values does not compile and matches nothing", { matchExpressions: [{ key: "a", operator: "NotIn" as const }] }, {}, false],
  ])("%s", (_name, selector: LabelSelector | undefined, labels, expected) => {
    expect(labelSelectorMatcher(selector).matches(labels)).toBe(expected);
  });
});
