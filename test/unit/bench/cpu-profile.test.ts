// Summarizing a V8 CPU profile into self-time shares by area and function.
import { describe, expect, it } from "vitest";
import { areaOf, summarizeProfile, type CpuProfile } from "../../../bench/cpu-profile.ts";

describe("areaOf", () => {
  it.each<[string, string, string, string]>([
    ["names an npm package", "redact", "file:///repo/node_modules/@pinojs/redact/index.js", "npm: @pinojs/redact"],
    ["names an unscoped npm package", "stringify", "file:///repo/node_modules/pino/lib/tools.js", "npm: pino"],
    ["names a Tessera source folder", "decide", "file:///repo/controller/src/policy/decide.ts", "controller/src/policy"],
    ["names a Node subsystem", "signOneShot", "node:internal/crypto/sig", "node: crypto"],
    ["names garbage collection", "(garbage collector)", "", "garbage collection"],
  ])("%s", (_name, fn, url, expected) => {
    expect(areaOf(fn, url)).toBe(expected);
  });
});

const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame("(idle)", ""), hitCount: 50 },
    { id: 2, callFrame: frame("signOneShot", "node:internal/crypto/sig", 142), hitCount: 30 },
    { id: 3, callFrame: frame("decide", "file:///r/controller/src/policy/decide.ts"), hitCount: 10 },
  ],
  startTime: 0,
  samples: [2, 2, 3, 1, 3],
  timeDeltas: [1000, 1000, 1000, 1000, 1000],
};

describe("summarizeProfile", () => {
  it("shares self time among areas and functions, idle left out", () => {
    const summary = summarizeProfile(profile);
    expect(summary.byArea).toEqual([
      { frame: "node: crypto", selfShare: 0.75 },
      { frame: "controller/src/policy", selfShare: 0.25 },
    ]);
    expect(summary.topFunctions[0]).toEqual({ frame: "signOneShot node:internal/crypto/sig:143", selfShare: 0.75 });
  });

  it("counts only samples inside the window when asked", () => {
    // Samples at 1, 2, 3, 4, 5 ms; from 2.5 ms on: decide, idle, decide.
    expect(summarizeProfile(profile, { fromMs: 2.5 }).byArea).toEqual([{ frame: "controller/src/policy", selfShare: 1 }]);
  });
});
