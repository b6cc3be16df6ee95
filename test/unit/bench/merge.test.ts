// A partial bench run (--parts) keeps the last run's rows of the parts it did not measure.
import { describe, expect, it } from "vitest";
import type { BenchResult, Figure } from "../../../bench/figures.ts";
import { mergeWithPrevious, partNumber } from "../../../bench/merge.ts";

const machine: BenchResult["machine"] = { cpuModel: "Test CPU", cpus: 2, memoryGiB: 8, kernel: "6.1", node: "20", wrk: "wrk 4.1.0", loadAverageAtStart: [0, 0, 0], loadAverageAtEnd: [0, 0, 0], cpuSharing: "shared" };
const fig = (part: string, measure: string): Figure => ({ part, measure, value: 1, unit: "ms" });
const profile = { byArea: [{ frame: "jose", selfShare: 0.5 }], topFunctions: [] };

function run(startedAt: string, figures: Figure[], extra: Partial<BenchResult> = {}): BenchResult {
  return { profile: "quick", startedAt, durationSeconds: 1, machine, figures, skipped: [], ...extra };
}

const previous = run("2026-12-01T20:00:00.000Z", [fig("1. Issuance", "a"), fig("2. Sidecar", "b"), fig("5. Scale", "old")], {
  cpuProfile: profile,
  skipped: [{ part: "4. Propagation", reason: "x" }],
});

describe("partNumber", () => {
  it.each([
    ["reads the number a part label starts with", "5. Scale", 5],
    ["gives NaN for a label without one", "Scale", Number.NaN],
  ])("%s", (_name, label, expected) => {
    expect(partNumber(label)).toBe(expected);
  });
});

describe("mergeWithPrevious", () => {
  it("keeps the rows of parts not run, in part order, and marks them with the run they came from", () => {
    const current = run("2026-12-01T21:00:00.000Z", [fig("5. Scale", "new")]);
    const merged = mergeWithPrevious(current, previous, [5]);
    expect(merged.figures.map((f) => `${f.part}/${f.measure}`)).toEqual(["1. Issuance/a", "2. Sidecar/b", "5. Scale/new"]);
    expect(merged.carried).toEqual([
      { part: "1. Issuance", startedAt: "2026-12-01T20:00:00.000Z", profile: "quick" },
      { part: "2. Sidecar", startedAt: "2026-12-01T20:00:00.000Z", profile: "quick" },
    ]);
    expect(merged.startedAt).toBe("2026-12-01T21:00:00.000Z");
  });

  it("keeps the issuance profile when part 1 did not run, and drops it when part 1 ran without one", () => {
    expect(mergeWithPrevious(run("t", [fig("5. Scale", "new")]), previous, [5]).cpuProfile).toEqual(profile);
    expect(mergeWithPrevious(run("t", [fig("1. Issuance", "new")]), previous, [1, 2, 5]).cpuProfile).toBeUndefined();
  });

  it("replaces every row of a part that ran, even when it now has fewer rows", () => {
    const merged = mergeWithPrevious(run("t", [fig("1. Issuance", "only")]), previous, [1, 2, 3, 4, 5]);
    expect(merged.figures.map((f) => f.measure)).toEqual(["only"]);
    expect(merged.carried).toBeUndefined();
  });

  it("drops the skip notice of a part whose earlier rows are carried, and keeps the others", () => {
    const current = run("t", [fig("1. Issuance", "new")], { skipped: [{ part: "5. Scale", reason: "not in the quick profile" }, { part: "3. Admission", reason: "y" }] });
    const merged = mergeWithPrevious(current, previous, [1, 2, 3, 4]);
    expect(merged.skipped.map((s) => s.part)).toEqual(["3. Admission"]);
    expect(merged.figures.map((f) => f.measure)).toEqual(["new", "old"]);
  });

  it("keeps the original date of rows carried over twice", () => {
    const once = mergeWithPrevious(run("2026-12-01T21:00:00.000Z", [fig("5. Scale", "new")]), previous, [5]);
    const twice = mergeWithPrevious(run("2026-12-01T22:00:00.000Z", [fig("5. Scale", "newer")]), once, [5]);
    expect(twice.carried?.map((c) => c.startedAt)).toEqual(["2026-12-01T20:00:00.000Z", "2026-12-01T20:00:00.000Z"]);
  });

  it("is the current run unchanged without an earlier one", () => {
    const current = run("t", [fig("5. Scale", "new")]);
    expect(mergeWithPrevious(current, undefined, [5])).toBe(current);
  });
});
