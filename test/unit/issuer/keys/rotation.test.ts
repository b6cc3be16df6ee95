// The pure key-rotation planner: pre-publication before signing, retirement only after the last token expired.
import { describe, expect, it } from "vitest";
import type { KeyRecord } from "../../../../controller/src/issuer/keys/keys.ts";
import { planRotation, signingRecord, type RotationSchedule } from "../../../../controller/src/issuer/keys/rotation.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const schedule: RotationSchedule = {
  algorithm: "ES256",
  rotationMs: 7 * DAY,
  prePublicationMs: 2 * HOUR,
  maxTokenTtlMs: HOUR,
  reloadMs: 60_000,
  leewayMs: 30_000,
};
const T0 = Date.parse("2026-03-01T00:00:00Z");
const at = (ms: number): Date => new Date(T0 + ms);

function record(kid: string, activateMs: number, alg: KeyRecord["alg"] = "ES256"): KeyRecord {
  return { kid, alg, createdAt: at(activateMs - schedule.prePublicationMs).toISOString(), activateAt: at(activateMs).toISOString(), privateKeyPem: "" };
}

/** Applies plans over time the way the leader does, returning the key set at the end. */
function simulate(untilMs: number, stepMs: number): { records: KeyRecord[]; signedBy: Map<number, string> } {
  let records: KeyRecord[] = [];
  let n = 0;
  const signedBy = new Map<number, string>();
  for (let t = 0; t <= untilMs; t += stepMs) {
    const plan = planRotation(records, at(t), schedule);
    records = records.filter((r) => !plan.retire.includes(r.kid));
    if (plan.generate !== undefined) {
      records.push({ ...record(`k${n++}`, 0), createdAt: at(t).toISOString(), activateAt: plan.generate.activateAt.toISOString() });
    }
    const signing = signingRecord(records, at(t));
    if (signing !== undefined) signedBy.set(t, signing.kid);
  }
  return { records, signedBy };
}

describe("planRotation", () => {
  it("creates a key that signs at once when there is none", () => {
    expect(planRotation([], at(0), schedule)).toEqual({ generate: { activateAt: at(0) }, retire: [] });
  });

  it("does nothing while the signing key is young", () => {
    expect(planRotation([record("a", 0)], at(DAY), schedule)).toEqual({ retire: [] });
  });

  it("pre-publishes the successor so it signs exactly when the rotation period ends", () => {
    const now = 7 * DAY - schedule.prePublicationMs;
    expect(planRotation([record("a", 0)], at(now), schedule).generate).toEqual({ activateAt: at(7 * DAY) });
  });

  it("publishes a late successor for at least the pre-publication period", () => {
    const now = 9 * DAY;
    expect(planRotation([record("a", 0)], at(now), schedule).generate).toEqual({ activateAt: at(now + schedule.prePublicationMs) });
  });

  it("does not generate again while a successor is pending", () => {
    expect(planRotation([record("a", 0), record("b", 7 * DAY)], at(7 * DAY - HOUR), schedule)).toEqual({ retire: [] });
  });

  it("keeps a superseded key until its last token has expired", () => {
    const records = [record("a", 0), record("b", 7 * DAY)];
    const keep = schedule.maxTokenTtlMs + schedule.reloadMs + schedule.leewayMs;
    expect(planRotation(records, at(7 * DAY + keep - 1), schedule).retire).toEqual([]);
    expect(planRotation(records, at(7 * DAY + keep), schedule).retire).toEqual(["a"]);
  });

  it("never retires the signing key or a pending key", () => {
    const records = [record("a", 0), record("b", 100 * DAY)];
    expect(planRotation(records, at(50 * DAY), schedule).retire).toEqual([]);
  });

  it("moves to a newly configured algorithm after pre-publication", () => {
    const plan = planRotation([record("a", 0, "EdDSA")], at(DAY), schedule);
    expect(plan.generate).toEqual({ activateAt: at(DAY + schedule.prePublicationMs) });
  });

  it("keeps every key that signed in the last token lifetime published, over many rotations", () => {
    const step = 30 * 60_000;
    const { signedBy } = simulate(60 * DAY, step);
    // Replay: at each time, every key that signed within maxTokenTtl must still be in the set planned then.
    let records: KeyRecord[] = [];
    let n = 0;
    for (let t = 0; t <= 60 * DAY; t += step) {
      const plan = planRotation(records, at(t), schedule);
      records = records.filter((r) => !plan.retire.includes(r.kid));
      if (plan.generate !== undefined) {
        records.push({ ...record(`k${n++}`, 0), createdAt: at(t).toISOString(), activateAt: plan.generate.activateAt.toISOString() });
      }
      for (let back = 0; back <= schedule.maxTokenTtlMs; back += step) {
        const kid = signedBy.get(t - back);
        if (kid !== undefined) expect(records.some((r) => r.kid === kid)).toBe(true);
      }
      // And a key signs only after it was published for the pre-publication period (except the very first).
      const signing = signingRecord(records, at(t));
      if (signing !== undefined && signing.kid !== "k0") {
        expect(Date.parse(signing.activateAt) - Date.parse(signing.createdAt)).toBeGreaterThanOrEqual(schedule.prePublicationMs);
      }
    }
    expect(new Set(signedBy.values()).size).toBeGreaterThanOrEqual(8);
    expect(records.length).toBeLessThanOrEqual(3);
  });
});
