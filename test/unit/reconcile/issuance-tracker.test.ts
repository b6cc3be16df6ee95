// What the issuer tells policy status: the last issuance, and the last denial for the CEL cost budget.
import { describe, expect, it } from "vitest";
import { issuanceRecorder } from "../../../controller/src/app/engine-adapters.ts";
import type { Decision } from "../../../controller/src/policy/index.ts";
import { IssuanceTracker } from "../../../controller/src/reconcile/issuance-tracker.ts";
import { request, subject } from "../policy/fixtures.ts";

const ref = { kind: "TokenPolicy" as const, namespace: "payments", name: "p", generation: 3 };
const common = { id: "d", subject: subject(), request: request(), evaluations: [], audiences: [] };

function denied(reason: "CostLimitExceeded" | "ConditionFailed", at: string, generation = 3): Decision {
  return { ...common, at, allowed: false, reason, message: `${reason} at ${at}`, deniedBy: "caller", policy: { ...ref, generation } };
}

describe("the issuance tracker", () => {
  it("remembers the last CostLimitExceeded denial with the generation that made it", () => {
    const tracker = new IssuanceTracker();
    const recorder = issuanceRecorder(tracker);
    recorder.record(denied("CostLimitExceeded", "2026-01-01T00:00:00.000Z"), {});
    recorder.record(denied("ConditionFailed", "2026-01-01T00:00:01.000Z"), {});
    expect(tracker.costLimit(ref)).toEqual({
      at: new Date("2026-01-01T00:00:00.000Z"),
      generation: 3,
      message: "CostLimitExceeded at 2026-01-01T00:00:00.000Z",
    });
  });

  it.each<[string, string[], number[], number]>([
    ["wakes the reconciler on the first denial", ["2026-01-01T00:00:00.000Z"], [3], 1],
    ["does not wake it again within the minute", ["2026-01-01T00:00:00.000Z", "2026-01-01T00:00:30.000Z"], [3, 3], 1],
    ["wakes it again a minute later", ["2026-01-01T00:00:00.000Z", "2026-01-01T00:01:00.000Z"], [3, 3], 2],
    ["wakes it at once for a new generation", ["2026-01-01T00:00:00.000Z", "2026-01-01T00:00:01.000Z"], [3, 4], 2],
  ])("%s", (_name, times, generations, wakes) => {
    const tracker = new IssuanceTracker();
    let woken = 0;
    tracker.onRecord(() => woken++);
    times.forEach((at, i) => {
      issuanceRecorder(tracker).record(denied("CostLimitExceeded", at, generations[i]), {});
    });
    expect(woken).toBe(wakes);
  });
});
