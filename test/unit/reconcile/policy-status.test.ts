// Status decision: conditions from the gathered facts, no write when nothing changed, Events only on transitions.
import { describe, expect, it } from "vitest";
import type { PolicyStatus } from "../../../api/token-policy.ts";
import { decideStatus, type StatusFacts } from "../../../controller/src/reconcile/policy-status.ts";

const now = new Date("2026-01-01T00:00:00.000Z");
const later = new Date("2026-01-01T00:05:00.000Z");
const healthy: StatusFacts = {
  generation: 1,
  compileErrors: [],
  guardrailViolations: [],
  conflicts: [],
  podsMatched: 3,
  podsUninjected: 0,
  lastIssuance: undefined,
};
const broken: StatusFacts = { ...healthy, generation: 2, compileErrors: [{ path: "spec.claims[0].expression", message: "undeclared reference to 'namspace'" }] };

function conditions(status: PolicyStatus) {
  return Object.fromEntries((status.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));
}

describe("decideStatus", () => {
  it.each([
    ["a compiled policy within guardrails is accepted and ready", healthy, { Accepted: "True/Accepted", Ready: "True/Serving", WithinCostBudget: "True/WithinBudget" }],
    ["a policy that does not compile is not accepted", broken, { Accepted: "False/CompileFailed", Ready: "False/NotAccepted", WithinCostBudget: "True/WithinBudget" }],
    [
      "a policy outside a guardrail is not accepted",
      { ...healthy, guardrailViolations: [{ path: "spec.ttlSeconds", message: "exceeds 300" }] },
      { Accepted: "False/GuardrailViolation", Ready: "False/NotAccepted", WithinCostBudget: "True/WithinBudget" },
    ],
    ["a conflicting policy is accepted but not ready", { ...healthy, conflicts: ["TokenPolicy a/b ..."] }, { Accepted: "True/Accepted", Ready: "False/Conflict", WithinCostBudget: "True/WithinBudget" }],
    [
      "a policy the issuer denied an exchange under for the cost budget is not within it",
      { ...healthy, costLimit: { at: now, generation: 1, message: "condition 'x' was not evaluated within the CEL cost budget" } },
      { Accepted: "True/Accepted", Ready: "True/Serving", WithinCostBudget: "False/CostLimitExceeded" },
    ],
    [
      "an edit clears the cost-budget denial of the generation before",
      { ...healthy, generation: 2, costLimit: { at: now, generation: 1, message: "spent" } },
      { Accepted: "True/Accepted", Ready: "True/Serving", WithinCostBudget: "True/WithinBudget" },
    ],
  ])("%s", (_name, facts, expected) => {
    expect(conditions(decideStatus(undefined, facts, now).status)).toEqual(expected);
  });

  it("names the denial in the condition and warns once when the budget first runs out", () => {
    const overBudget = { ...healthy, costLimit: { at: now, generation: 1, message: "spent" } };
    const first = decideStatus(decideStatus(undefined, healthy, now).status, overBudget, later);
    expect(first.status.conditions?.find((c) => c.type === "WithinCostBudget")?.message).toBe(
      "An exchange under this generation was denied: spent",
    );
    expect(first.events.map((e) => e.reason)).toEqual(["CostLimitExceeded"]);
    expect(decideStatus(first.status, overBudget, later).events).toEqual([]);
  });

  it("carries the compile error path and message into the condition", () => {
    const accepted = decideStatus(undefined, broken, now).status.conditions?.find((c) => c.type === "Accepted");
    expect(accepted?.message).toBe("spec.claims[0].expression: undeclared reference to 'namspace'");
    expect(accepted?.observedGeneration).toBe(2);
  });

  it("reports no change when the facts are the same as last time", () => {
    const first = decideStatus(undefined, healthy, now);
    const second = decideStatus(first.status, healthy, later);
    expect(first.changed).toBe(true);
    expect(second.changed).toBe(false);
    expect(second.events).toEqual([]);
  });

  it("emits a warning when a policy stops compiling, and not again on the next reconcile", () => {
    const ok = decideStatus(undefined, healthy, now).status;
    const breaking = decideStatus(ok, broken, later);
    expect(breaking.events.map((e) => e.reason)).toEqual(["PolicyCompileFailed"]);
    expect(decideStatus(breaking.status, broken, later).events).toEqual([]);
  });

  it("announces when a broken policy is accepted again", () => {
    const bad = decideStatus(undefined, broken, now).status;
    expect(decideStatus(bad, { ...healthy, generation: 3 }, later).events.map((e) => e.reason)).toEqual(["PolicyAccepted"]);
  });

  it("emits no event for the first status of a healthy policy", () => {
    expect(decideStatus(undefined, healthy, now).events).toEqual([]);
  });

  it("emits a conflict warning on entering the conflict", () => {
    const ok = decideStatus(undefined, healthy, now).status;
    expect(decideStatus(ok, { ...healthy, conflicts: ["x"] }, later).events.map((e) => e.reason)).toEqual(["PolicyConflict"]);
  });

  it.each([
    ["sets lastIssuanceTime the first time", undefined, new Date("2026-01-01T00:00:30Z"), "2026-01-01T00:00:30Z"],
    ["keeps it when the newer issuance is under a minute later", "2026-01-01T00:00:00Z", new Date("2026-01-01T00:00:59Z"), "2026-01-01T00:00:00Z"],
    ["moves it after a minute", "2026-01-01T00:00:00Z", new Date("2026-01-01T00:01:00Z"), "2026-01-01T00:01:00Z"],
  ])("%s", (_name, current, observed, expected) => {
    const base = decideStatus(undefined, healthy, now).status;
    const status = current === undefined ? base : { ...base, lastIssuanceTime: current };
    expect(decideStatus(status, { ...healthy, lastIssuance: observed }, later).status.lastIssuanceTime).toBe(expected);
  });

  it("counts matched and uninjected pods", () => {
    const status = decideStatus(undefined, { ...healthy, podsMatched: 5, podsUninjected: 2 }, now).status;
    expect(status).toMatchObject({ podsMatched: 5, podsUninjected: 2, observedGeneration: 1 });
  });
});
