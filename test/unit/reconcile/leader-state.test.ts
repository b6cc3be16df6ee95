// Leader election state machine: create, renew, wait for expiry by our own clock, take over, release.
import { describe, expect, it } from "vitest";
import { attemptWrite, holdsLeadership, observe, planStep, recordWritten, releaseSpec, type LeaderState, type ObservedLease } from "../../../controller/src/reconcile/leader-state.ts";

const timing = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
const t0 = new Date("2026-01-01T00:00:00.000Z");
const at = (ms: number) => new Date(t0.getTime() + ms);
const heldBy = (holder: string, rv = "1", renewTime = "2026-01-01T00:00:00.000000Z"): ObservedLease => ({
  resourceVersion: rv,
  spec: { holderIdentity: holder, leaseDurationSeconds: 15, renewTime, leaseTransitions: 3 },
});

describe("planStep", () => {
  it("creates the lease when none exists", () => {
    const step = planStep("a", {}, undefined, t0, timing);
    expect(step).toMatchObject({ kind: "create", spec: { holderIdentity: "a", leaseDurationSeconds: 15, leaseTransitions: 0 } });
  });

  it("renews the lease it wrote with the read resourceVersion", () => {
    const lease = heldBy("a", "7");
    const state = recordWritten(observe({}, lease, t0.getTime()), lease.spec);
    const step = planStep("a", state, lease, t0, timing);
    expect(step).toMatchObject({ kind: "update", resourceVersion: "7", spec: { holderIdentity: "a", leaseTransitions: 3 } });
  });

  it("renews the lease when the record it last tried to write is there though the reply was lost", () => {
    const before = heldBy("a", "7", "2026-01-01T00:00:00.000000Z");
    const written = recordWritten(observe({}, before, t0.getTime()), before.spec);
    const applied = heldBy("a", "8", "2026-01-01T00:00:02.000000Z");
    const state = observe(attemptWrite(written, applied.spec), applied, at(2_000).getTime());
    expect(planStep("a", state, applied, at(4_000), timing)).toMatchObject({ kind: "update", resourceVersion: "8" });
  });

  it("renews the lease it wrote when a later renewal failed without reaching it", () => {
    const lease = heldBy("a", "7");
    const state = attemptWrite(recordWritten(observe({}, lease, t0.getTime()), lease.spec), { ...lease.spec, renewTime: "2026-01-01T00:00:02.000000Z" });
    expect(planStep("a", state, lease, at(4_000), timing)).toMatchObject({ kind: "update", resourceVersion: "7" });
  });

  it("waits out its own name on a record it did not write (a restarted container's predecessor), like any holder's", () => {
    const lease = heldBy("a", "7");
    const state = observe({}, lease, t0.getTime());
    expect(planStep("a", state, lease, at(14_999), timing)).toEqual({ kind: "wait", holder: "a" });
  });

  it("takes the lease its predecessor left once unrenewed for the lease duration, counting a transition", () => {
    const lease = heldBy("a", "7");
    const state = observe({}, lease, t0.getTime());
    expect(planStep("a", state, lease, at(15_000), timing)).toMatchObject({
      kind: "update",
      resourceVersion: "7",
      spec: { holderIdentity: "a", leaseTransitions: 4 },
    });
  });

  it("waits while another holder's record is younger than the lease duration on our clock", () => {
    const lease = heldBy("b");
    const state = observe({}, lease, t0.getTime());
    expect(planStep("a", state, lease, at(14_999), timing)).toEqual({ kind: "wait", holder: "b" });
  });

  it("takes over once the unchanged record is older than the lease duration, counting a transition", () => {
    const lease = heldBy("b", "9");
    const state = observe({}, lease, t0.getTime());
    expect(planStep("a", state, lease, at(15_000), timing)).toMatchObject({
      kind: "update",
      resourceVersion: "9",
      spec: { holderIdentity: "a", leaseTransitions: 4 },
    });
  });

  it("restarts the expiry clock when the holder renews", () => {
    let state: LeaderState = observe({}, heldBy("b", "1", "r1"), t0.getTime());
    state = observe(state, heldBy("b", "2", "r2"), at(10_000).getTime());
    expect(planStep("a", state, heldBy("b", "2", "r2"), at(20_000), timing).kind).toBe("wait");
  });

  it("takes a released lease (empty holder) at once", () => {
    const lease = { resourceVersion: "5", spec: releaseSpec(heldBy("b").spec, t0) };
    const state = observe({}, lease, t0.getTime());
    expect(planStep("a", state, lease, t0, timing)).toMatchObject({ kind: "update", spec: { holderIdentity: "a" } });
  });
});

describe("holdsLeadership", () => {
  it.each([
    ["never renewed", undefined, 0, false],
    ["renewed just now", 0, 0, true],
    ["renewed 9.9 s ago", 0, 9_900, true],
    ["renewed 10 s ago (deadline passed)", 0, 10_000, false],
  ])("is %s -> %s", (_name, lastRenewMs, nowMs, expected) => {
    const state: LeaderState = lastRenewMs === undefined ? {} : { lastRenewMs };
    expect(holdsLeadership(state, nowMs, timing)).toBe(expected);
  });
});
