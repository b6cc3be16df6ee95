// compilePolicySet: a list of policies to one PolicySet, with per-policy results and rejected policies kept.
import { describe, expect, it } from "vitest";
import { compilePolicySet, decide } from "../../../controller/src/policy/index.ts";
import { clusterPolicy, NOW, request, subject, tokenPolicy, OPEN_EVERY_AUDIENCE } from "./fixtures.ts";

const broken = tokenPolicy("broken", { claims: [{ name: "t", expression: "namspace.name" }] });
const brokenRails = clusterPolicy("rails", { guardrails: { allowedClaims: ["sub"] } });

describe("compilePolicySet", () => {
  it("returns one result per policy, in the order given", () => {
    const { results } = compilePolicySet([tokenPolicy("a"), broken, tokenPolicy("b", {}, "other")]);
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
  });

  it.each([
    ["a compiled policy grants", [tokenPolicy("p")], "allowed"],
    ["a policy that does not compile is named in the denial", [broken], "PolicyNotAccepted"],
    ["a ClusterTokenPolicy whose guardrails do not compile stops every TokenPolicy (fail closed)", [tokenPolicy("p"), brokenRails], "PolicyNotAccepted"],
  ])("%s", (_name, policies, expected) => {
    const { set } = compilePolicySet([...policies, OPEN_EVERY_AUDIENCE]);
    const decision = decide({ subject: subject(), request: request(), policies: set, now: NOW, id: "d-1" });
    expect(decision.allowed ? "allowed" : decision.reason).toBe(expected);
  });
});
