// Native sidecar support by apiserver version.
import { describe, expect, it } from "vitest";
import { supportsNativeSidecars } from "../../../controller/src/admission/cluster-version.ts";

describe("supportsNativeSidecars", () => {
  it.each([
    ["1.34 supports them", { major: "1", minor: "34" }, true],
    ["1.29 with a provider suffix supports them", { major: "1", minor: "29+" }, true],
    ["1.28 does not", { major: "1", minor: "28" }, false],
    ["an unreadable version answers no", { gitVersion: "v1.30.0" }, false],
    ["no body answers no", undefined, false],
  ])("%s", (_name, version, expected) => {
    expect(supportsNativeSidecars(version)).toBe(expected);
  });
});
