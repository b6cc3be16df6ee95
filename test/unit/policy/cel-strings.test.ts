// The linear string functions keep the semantics of CEL's strings extension (Go's strings.Replace, SplitN, Join).

import { describe, expect, it } from "vitest";
import { CostMeter } from "../../../controller/src/policy/cel/cost-meter.ts";
import { compileExpression } from "../../../controller/src/policy/cel/expression.ts";
import {
  codePointCount,
  joinLinear,
  lowerAsciiLinear,
  replaceLinear,
  splitLinear,
  upperAsciiLinear,
} from "../../../controller/src/policy/cel/linear-strings.ts";
import { toClaimValue } from "../../../controller/src/policy/cel/expression.ts";

describe("replace", () => {
  it.each<[string, string, string, string, number | undefined, string]>([
    ["replaces every occurrence", "a-b-c", "-", "_", undefined, "a_b_c"],
    ["replaces the first n occurrences", "a-b-c", "-", "_", 1, "a_b-c"],
    ["replaces nothing with a limit of zero", "a-b-c", "-", "_", 0, "a-b-c"],
    ["replaces everything with a negative limit", "a-b-c", "-", "_", -1, "a_b_c"],
    ["matches occurrences left to right without overlap", "aaa", "aa", "b", undefined, "ba"],
    ["may grow the string", "ab", "b", "bbb", undefined, "abbb"],
    ["may delete", "a-b-c", "-", "", undefined, "abc"],
    ["inserts around every code point for an empty old", "a😀b", "", "-", undefined, "-a-😀-b-"],
    ["inserts the first n times for an empty old", "abc", "", "-", 2, "-a-bc"],
    ["leaves a string without the old one as it is", "abc", "x", "y", undefined, "abc"],
    ["treats $ in the replacement literally", "a-b", "-", "$&", undefined, "a$&b"],
  ])("%s", (_name, s, old, replacement, limit, expected) => {
    expect(replaceLinear(s, old, replacement, limit)).toBe(expected);
  });
});

describe("split", () => {
  it.each<[string, string, string, number | undefined, string[]]>([
    ["splits on every separator", "a,b,c", ",", undefined, ["a", "b", "c"]],
    ["keeps the rest in the last of n parts", "a,b,c", ",", 2, ["a", "b,c"]],
    ["gives nothing for a limit of zero", "a,b,c", ",", 0, []],
    ["gives every part for a negative limit", "a,b,c", ",", -1, ["a", "b", "c"]],
    ["gives one empty part for an empty string", "", ",", undefined, [""]],
    ["keeps empty parts", ",a,,", ",", undefined, ["", "a", "", ""]],
    ["splits into code points on an empty separator", "a😀b", "", undefined, ["a", "😀", "b"]],
    ["keeps the rest on an empty separator with a limit", "abc", "", 2, ["a", "bc"]],
    ["gives no parts for an empty string and separator", "", "", undefined, []],
  ])("%s", (_name, s, sep, limit, expected) => {
    expect(splitLinear(s, sep, limit)).toEqual(expected);
  });
});

describe("join, lowerAscii, upperAscii and size", () => {
  it.each<[string, () => unknown, unknown]>([
    ["join without a separator concatenates", () => joinLinear(["a", "b"]), "ab"],
    ["join puts the separator between elements", () => joinLinear(["a", "b", "c"], "-"), "a-b-c"],
    ["join of nothing is empty", () => joinLinear([], "-"), ""],
    ["lowerAscii changes ASCII letters only", () => lowerAsciiLinear("ÀBc-D"), "Àbc-d"],
    ["upperAscii changes ASCII letters only", () => upperAsciiLinear("àbC-d"), "àBC-D"],
    ["size counts code points, not UTF-16 units", () => codePointCount("a😀b"), 3],
    ["size counts a lone surrogate once", () => codePointCount("a\ud800"), 2],
  ])("%s", (_name, run, expected) => {
    expect(run()).toEqual(expected);
  });

  it("join refuses an element that is not a string", () => {
    expect(() => joinLinear(["a", 1n])).toThrow("join: list contains a value that is not a string");
  });
});

describe("policy expressions call the linear functions", () => {
  it.each<[string, unknown]>([
    ['"a-b-c".replace("-", "_")', "a_b_c"],
    ['"a-b-c".replace("-", "_", 1)', "a_b-c"],
    ['"a,b,c".split(",", 2)', ["a", "b,c"]],
    ['"a,b,c".split(",")', ["a", "b", "c"]],
    ['["a", "b"].join("-")', "a-b"],
    ['["a", "b"].join()', "ab"],
    ['"AbC".lowerAscii()', "abc"],
    ['"aBc".upperAscii()', "ABC"],
    ['size("a😀b")', 3],
    ['"a😀b".size()', 3],
    ["([1, 2] + [3]).map(x, x * 2)", [2, 4, 6]],
  ])("%s", (source, expected) => {
    const compiled = compileExpression(source, "claim");
    if (!compiled.ok) throw new Error(compiled.message);
    const result = compiled.expression.evaluate({}, new CostMeter());
    if (!result.ok) throw new Error(result.error);
    expect(toClaimValue(result.value)).toEqual({ ok: true, value: expected });
  });
});
