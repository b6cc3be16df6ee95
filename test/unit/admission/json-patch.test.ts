// The JSON patch diff and apply: escaping, array inserts and round trips.
import { describe, expect, it } from "vitest";
import {
  applyPatch,
  diff,
  escapePointerToken,
  type Json,
} from "../../../controller/src/admission/json-patch.ts";
import { isAdmissionError } from "../../../controller/src/admission/errors.ts";

describe("JSON patch", () => {
  it.each([
    ["a plain token is kept", "name", "name"],
    ["a slash becomes ~1", "tessera.dev/injected", "tessera.dev~1injected"],
    ["a tilde becomes ~0 before slashes are escaped", "a~/b", "a~0~1b"],
  ])("escapes pointer tokens: %s", (_name, token, escaped) => {
    expect(escapePointerToken(token)).toBe(escaped);
  });

  it.each<[string, Json, Json]>([
    ["an added annotation key with a slash", { metadata: {} }, { metadata: { annotations: { "a/b": "1" } } }],
    ["an item appended to a list", { l: [1, 2] }, { l: [1, 2, 3] }],
    ["an item prepended to a list", { l: [{ n: "a" }] }, { l: [{ n: "x" }, { n: "a" }] }],
    ["items inserted in the middle of a list", { l: [1, 4] }, { l: [1, 2, 3, 4] }],
    ["a list of the same length changed element-wise", { l: [{ a: 1 }, { b: 2 }] }, { l: [{ a: 1 }, { b: 3, c: 4 }] }],
    ["a list shortened", { l: [1, 2, 3] }, { l: [3] }],
    ["a removed key", { a: 1, b: 2 }, { a: 1 }],
    ["a scalar replaced by an object", { a: 1 }, { a: { b: [true, null] } }],
    ["a key with a tilde", { "x~y": 1 }, { "x~y": 2 }],
  ])("diffs and re-applies %s", (_name, from, to) => {
    expect(applyPatch(from, diff(from, to))).toEqual(to);
  });

  it("emits nothing for equal documents", () => {
    expect(diff({ a: [1, { b: "c" }] }, { a: [1, { b: "c" }] })).toEqual([]);
  });

  it("inserts a prepended item at index 0", () => {
    expect(diff({ l: ["a"] }, { l: ["x", "a"] })).toEqual([{ op: "add", path: "/l/0", value: "x" }]);
  });

  it("refuses an operation on a path that does not exist", () => {
    let caught: unknown;
    try {
      applyPatch({ a: 1 }, [{ op: "replace", path: "/b/c", value: 1 }]);
    } catch (error) {
      caught = error;
    }
    expect(isAdmissionError(caught, "InvalidPatch")).toBe(true);
  });
});
