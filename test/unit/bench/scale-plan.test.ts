// The scale part's cluster shape: how policies are split over namespaces and how pods are sampled.
import { describe, expect, it } from "vitest";
import { SCALE_SHAPE, spreadSample, tokenPoliciesPerNamespace } from "../../../bench/scale-plan.ts";

describe("tokenPoliciesPerNamespace", () => {
  it.each([
    { name: "the bench's shape gives 100 namespaces 9 or 10 policies, 950 in all", shape: SCALE_SHAPE, sum: 950, min: 9, max: 10 },
    { name: "an even split gives every namespace the same count", shape: { namespaces: 4, podsPerNamespace: 1, policies: 10, clusterPolicies: 2 }, sum: 8, min: 2, max: 2 },
    { name: "a remainder goes one each to the first namespaces", shape: { namespaces: 3, podsPerNamespace: 1, policies: 5, clusterPolicies: 0 }, sum: 5, min: 1, max: 2 },
  ])("$name", ({ shape, sum, min, max }) => {
    const counts = tokenPoliciesPerNamespace(shape);
    expect(counts).toHaveLength(shape.namespaces);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(sum);
    expect(Math.min(...counts)).toBe(min);
    expect(Math.max(...counts)).toBe(max);
  });

  it("refuses a shape that leaves a namespace without a policy", () => {
    expect(() => tokenPoliciesPerNamespace({ namespaces: 10, podsPerNamespace: 1, policies: 12, clusterPolicies: 5 })).toThrow(RangeError);
  });
});

describe("spreadSample", () => {
  it.each([
    { name: "samples are spread evenly over the whole range", total: 10_000, count: 4, expected: [0, 2500, 5000, 7500] },
    { name: "a sample as large as the range is every index", total: 3, count: 5, expected: [0, 1, 2] },
    { name: "an empty range gives no sample", total: 0, count: 5, expected: [] },
  ])("$name", ({ total, count, expected }) => {
    expect(spreadSample(total, count)).toEqual(expected);
  });

  it("a sample of 200 from 100 namespaces of 100 pods touches every namespace", () => {
    const namespaces = new Set(spreadSample(10_000, 200).map((i) => Math.floor(i / 100)));
    expect(namespaces.size).toBe(100);
  });
});
