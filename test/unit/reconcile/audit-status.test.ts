// status.audit and the Audited condition: an absolute tally per generation, bounded examples, rate-limited wake-ups.
import { describe, expect, it } from "vitest";
import type { AuditExample, AuditStatus } from "../../../api/token-policy.ts";
import { AUDIT_STATUS_EXAMPLES, auditedParts, decideAuditStatus } from "../../../controller/src/reconcile/audit-status.ts";
import { AuditTracker, type AuditedResource } from "../../../controller/src/reconcile/audit-tracker.ts";
import { decideStatus, type StatusFacts } from "../../../controller/src/reconcile/policy-status.ts";
import { ManualTimers } from "./manual-timers.ts";

const NOW = new Date("2026-01-01T00:00:00.000Z");
const RAILS: AuditedResource = { kind: "ClusterTokenPolicy", name: "short-ttl" };

function example(n: number, wouldHave: AuditExample["wouldHave"] = "denied"): AuditExample {
  return {
    time: `2026-01-01T00:00:${String(n).padStart(2, "0")}Z`,
    rule: "spec",
    wouldHave,
    reason: wouldHave === "denied" ? "GuardrailViolation" : wouldHave === "clamped" ? "Clamped" : "Granted",
    subject: `payments/api (pod api-${n})`,
    audiences: ["https://ledger.internal"],
    scopes: [],
    message: "m",
  };
}

describe("which parts of a resource are audited", () => {
  it.each<[string, unknown, ReturnType<typeof auditedParts>]>([
    ["nothing, by default", { owner: { team: "t" } }, undefined],
    ["nothing, when written Enforce", { enforcement: "Enforce" }, undefined],
    ["the whole resource", { enforcement: "Audit" }, { whole: true, conditions: [] }],
    ["a policy's condition", { conditions: [{ name: "a" }, { name: "b", enforcement: "Audit" }] }, { whole: false, conditions: ["spec.conditions[b]"] }],
    [
      "a contract's caller condition",
      { callers: [{ name: "checkout", conditions: [{ name: "tenant", enforcement: "Audit" }] }] },
      { whole: false, conditions: ["spec.callers[checkout].conditions[tenant]"] },
    ],
  ])("%s", (_name, spec, expected) => {
    expect(auditedParts(spec)).toEqual(expected);
  });
});

describe("the audit tally", () => {
  it("counts each effect for the generation and keeps the newest examples, at most a few", () => {
    const tracker = new AuditTracker({ timers: new ManualTimers() });
    for (let i = 0; i < 7; i++) tracker.record({ resource: RAILS, generation: 2, example: example(i) });
    tracker.record({ resource: RAILS, generation: 2, example: example(8, "clamped") });
    const tally = tracker.tally(RAILS, 2, undefined);
    expect(tally?.counts).toEqual({ wouldHaveDenied: 7, wouldHaveClamped: 1, wouldHaveGranted: 0 });
    expect(tally?.examples.map((e) => e.subject)).toEqual(["payments/api (pod api-8)", "payments/api (pod api-6)", "payments/api (pod api-5)", "payments/api (pod api-4)", "payments/api (pod api-3)"]);
    expect(tally?.examples).toHaveLength(AUDIT_STATUS_EXAMPLES);
  });

  it("adopts what the stored status counted for the same generation once, so a new leader adds to it", () => {
    const tracker = new AuditTracker({ timers: new ManualTimers() });
    tracker.record({ resource: RAILS, generation: 2, example: example(1) });
    const stored = { wouldHaveDenied: 40, wouldHaveClamped: 2, wouldHaveGranted: 0 };
    expect(tracker.tally(RAILS, 2, stored)?.counts).toEqual({ wouldHaveDenied: 41, wouldHaveClamped: 2, wouldHaveGranted: 0 });
    // A stale cache handing back an older status later does not count anything twice or lose anything.
    expect(tracker.tally(RAILS, 2, { wouldHaveDenied: 41, wouldHaveClamped: 2, wouldHaveGranted: 0 })?.counts.wouldHaveDenied).toBe(41);
  });

  it("starts again at a new generation and ignores late decisions of the old one", () => {
    const tracker = new AuditTracker({ timers: new ManualTimers() });
    tracker.record({ resource: RAILS, generation: 2, example: example(1) });
    tracker.record({ resource: RAILS, generation: 3, example: example(2) });
    tracker.record({ resource: RAILS, generation: 2, example: example(3) });
    expect(tracker.tally(RAILS, 2, undefined)).toBeUndefined();
    expect(tracker.tally(RAILS, 3, undefined)?.counts.wouldHaveDenied).toBe(1);
  });

  it("wakes the reconciler at once, then at most once per interval, and once more for the end of a burst", () => {
    const timers = new ManualTimers();
    const tracker = new AuditTracker({ timers, intervalMs: 10_000 });
    const woken: string[] = [];
    tracker.onChange((r) => woken.push(r.name));
    for (let i = 0; i < 50; i++) {
      tracker.record({ resource: RAILS, generation: 1, example: example(i % 60) });
      timers.advance(100);
    }
    expect(woken).toHaveLength(1);
    timers.advance(10_000);
    expect(woken).toHaveLength(2);
    timers.advance(60_000);
    expect(woken).toHaveLength(2);
  });
});

describe("the Audited condition and status.audit", () => {
  const healthy: StatusFacts = { generation: 4, compileErrors: [], guardrailViolations: [], conflicts: [], podsMatched: 1, podsUninjected: 0, lastIssuance: undefined };

  it("says what enforcing would change and which field to switch", () => {
    const tally = { counts: { wouldHaveDenied: 3, wouldHaveClamped: 0, wouldHaveGranted: 0 }, examples: [example(1)], lastChangeTime: example(1).time };
    const { status } = decideStatus(undefined, { ...healthy, audited: { whole: true, conditions: [] }, audit: tally }, NOW);
    const audited = status.conditions?.find((c) => c.type === "Audited");
    expect(audited).toMatchObject({ status: "True", reason: "WouldChangeRequests", observedGeneration: 4 });
    expect(audited?.message).toContain("would have denied 3, clamped 0 and granted 0 request(s)");
    expect(audited?.message).toContain("set spec.enforcement to Enforce");
    expect(status.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "True", reason: "Auditing" });
    expect(status.audit).toEqual({ observedGeneration: 4, wouldHaveDenied: 3, wouldHaveClamped: 0, wouldHaveGranted: 0, lastChangeTime: example(1).time, examples: [example(1)] });
  });

  it("names audited conditions and keeps the policy serving", () => {
    const { status } = decideStatus(undefined, { ...healthy, audited: { whole: false, conditions: ["spec.conditions[tenant]"] } }, NOW);
    expect(status.conditions?.find((c) => c.type === "Audited")).toMatchObject({ reason: "NoChangeSeen" });
    expect(status.conditions?.find((c) => c.type === "Audited")?.message).toContain("spec.conditions[tenant] is audited");
    expect(status.conditions?.find((c) => c.type === "Ready")?.reason).toBe("Serving");
    expect(status.audit?.wouldHaveDenied).toBe(0);
  });

  it("drops the condition and the counts once everything is enforced", () => {
    const { status: audited } = decideStatus(undefined, { ...healthy, audited: { whole: true, conditions: [] } }, NOW);
    const { status, changed } = decideStatus(audited, { ...healthy, generation: 5 }, NOW);
    expect(changed).toBe(true);
    expect(status.conditions?.map((c) => c.type)).not.toContain("Audited");
    expect(status).not.toHaveProperty("audit");
  });

  it("keeps what the status holds for the generation when this process has counted nothing yet", () => {
    const stored: AuditStatus = { observedGeneration: 4, wouldHaveDenied: 9, wouldHaveClamped: 1, wouldHaveGranted: 0, examples: [example(2)] };
    const result = decideAuditStatus({ audit: stored }, [], { whole: true, conditions: [] }, undefined, 4, NOW);
    expect(result.audit).toEqual(stored);
    const nextGeneration = decideAuditStatus({ audit: stored }, [], { whole: true, conditions: [] }, undefined, 5, NOW);
    expect(nextGeneration.audit).toEqual({ observedGeneration: 5, wouldHaveDenied: 0, wouldHaveClamped: 0, wouldHaveGranted: 0 });
  });

  it("keeps two requests that look alike, and a previous leader's examples older than this process's", () => {
    const stored: AuditStatus = { observedGeneration: 4, wouldHaveDenied: 2, wouldHaveClamped: 0, wouldHaveGranted: 0, examples: [example(5), example(1)] };
    const tally = { counts: { wouldHaveDenied: 4, wouldHaveClamped: 0, wouldHaveGranted: 0 }, examples: [example(7), example(7), example(5)] };
    const result = decideAuditStatus({ audit: stored }, [], { whole: true, conditions: [] }, tally, 4, NOW);
    expect(result.audit?.examples).toEqual([example(7), example(7), example(5), example(1)]);
  });

  it("writes nothing when a reconcile finds the same tally", () => {
    const facts = { ...healthy, audited: { whole: true, conditions: [] }, audit: { counts: { wouldHaveDenied: 1, wouldHaveClamped: 0, wouldHaveGranted: 0 }, examples: [example(1)] } };
    const { status } = decideStatus(undefined, facts, NOW);
    expect(decideStatus(status, facts, NOW).changed).toBe(false);
  });
});
