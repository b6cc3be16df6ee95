// Condition helper: observedGeneration always set, lastTransitionTime kept unless the status flips.
import { describe, expect, it } from "vitest";
import type { Condition } from "../../../api/token-policy.ts";
import { setCondition } from "../../../controller/src/reconcile/conditions.ts";

const t1 = new Date("2026-01-01T00:00:00.000Z");
const t2 = new Date("2026-01-01T01:00:00.000Z");
const existing: Condition[] = [
  { type: "Accepted", status: "True", reason: "Accepted", message: "ok", observedGeneration: 1, lastTransitionTime: "2026-01-01T00:00:00Z" },
];

describe("setCondition", () => {
  it("adds a missing condition with the current time", () => {
    expect(setCondition([], { type: "Ready", status: "True", reason: "Serving", message: "m" }, 2, t2)).toEqual([
      { type: "Ready", status: "True", reason: "Serving", message: "m", observedGeneration: 2, lastTransitionTime: "2026-01-01T01:00:00Z" },
    ]);
  });

  it("keeps lastTransitionTime when only the reason, message or generation change", () => {
    const [c] = setCondition(existing, { type: "Accepted", status: "True", reason: "Accepted", message: "new" }, 3, t2);
    expect(c).toMatchObject({ message: "new", observedGeneration: 3, lastTransitionTime: "2026-01-01T00:00:00Z" });
  });

  it("moves lastTransitionTime when the status flips", () => {
    const [c] = setCondition(existing, { type: "Accepted", status: "False", reason: "CompileFailed", message: "x" }, 2, t2);
    expect(c?.lastTransitionTime).toBe("2026-01-01T01:00:00Z");
  });

  it("leaves other condition types in place", () => {
    const out = setCondition(existing, { type: "Ready", status: "False", reason: "NotAccepted", message: "x" }, 1, t1);
    expect(out.map((c) => c.type)).toEqual(["Accepted", "Ready"]);
  });
});
