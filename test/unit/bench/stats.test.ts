// The bench's percentile and ratio arithmetic.
import { describe, expect, it } from "vitest";
import { median, percentile, ratio, summarize } from "../../../bench/stats.ts";

const HUNDRED = Array.from({ length: 100 }, (_, i) => i + 1);

describe("percentile", () => {
  it.each<[string, readonly number[], number, number]>([
    ["takes the nearest rank: p50 of 1..100 is 50", HUNDRED, 50, 50],
    ["takes the nearest rank: p99 of 1..100 is 99", HUNDRED, 99, 99],
    ["returns the largest sample for p100", HUNDRED, 100, 100],
    ["returns the smallest sample for p0", HUNDRED, 0, 1],
    ["rounds the rank up: p50 of four samples is the second", [1, 2, 3, 4], 50, 2],
    ["returns the only sample of one", [7], 99, 7],
  ])("%s", (_name, sorted, p, expected) => {
    expect(percentile(sorted, p)).toBe(expected);
  });

  it("is NaN without samples, so an empty run never reads as zero latency", () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe("summarize and median", () => {
  it("sorts unsorted samples before ranking", () => {
    expect(summarize([5, 1, 4, 2, 3])).toEqual({ count: 5, p50: 3, p99: 5, max: 5 });
    expect(median([9, 1, 5])).toBe(5);
  });
});

describe("ratio", () => {
  it.each<[string, number, number, number]>([
    ["divides a figure by its reference", 50, 100, 0.5],
    ["is NaN when the reference is zero", 5, 0, Number.NaN],
    ["is NaN when the reference is missing", 5, Number.NaN, Number.NaN],
  ])("%s", (_name, a, b, expected) => {
    expect(ratio(a, b)).toEqual(expected);
  });
});
