// The bench's command line.
import { describe, expect, it } from "vitest";
import { parseBenchArgs } from "../../../bench/args.ts";

describe("parseBenchArgs", () => {
  it.each<[string, string[], ReturnType<typeof parseBenchArgs>]>([
    ["runs the quick profile and writes the docs by default", [], { profile: "quick", parts: undefined, write: true, profileDir: undefined }],
    ["runs the full profile with --full", ["--full"], { profile: "full", parts: undefined, write: true, profileDir: undefined }],
    ["runs only the listed parts", ["--parts=1,3"], { profile: "quick", parts: [1, 3], write: true, profileDir: undefined }],
    ["leaves the docs alone with --no-write", ["--no-write"], { profile: "quick", parts: undefined, write: false, profileDir: undefined }],
    ["keeps the issuer's CPU profile where --keep-profile says", ["--keep-profile=/tmp/prof"], { profile: "quick", parts: undefined, write: true, profileDir: "/tmp/prof" }],
  ])("%s", (_name, argv, expected) => {
    expect(parseBenchArgs(argv)).toEqual(expected);
  });

  it.each<[string, string[]]>([
    ["refuses an unknown flag", ["--fast"]],
    ["refuses a part that does not exist", ["--parts=8"]],
    ["refuses --keep-profile without a directory", ["--keep-profile="]],
  ])("%s", (_name, argv) => {
    expect(() => parseBenchArgs(argv)).toThrow(TypeError);
  });
});
