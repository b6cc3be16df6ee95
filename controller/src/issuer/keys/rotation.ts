// Pure key-rotation planner: when to generate the next key and when an old one may leave the JWKS.
import type { KeyRecord, SigningAlgorithm } from "./keys.ts";

export interface RotationSchedule {
  /** The algorithm new keys use. */
  readonly algorithm: SigningAlgorithm;
  /** How long a key signs before its successor takes over. */
  readonly rotationMs: number;
  /**
   * How long a new key is published before it signs. Must cover the JWKS cache lifetime verifiers are told
   * (Cache-Control max-age) plus the replicas' reload interval, so every verifier already has it when it signs.
   */
  readonly prePublicationMs: number;
  /** Longest lifetime of a token Tessera mints (the largest TTL any guardrail allows). */
  readonly maxTokenTtlMs: number;
  /** Replicas reload keys at this interval; a slow replica may sign with the old key this much longer. */
  readonly reloadMs: number;
  /** Clock skew allowance. */
  readonly leewayMs: number;
}

/** What the leader must do now. */
export interface RotationPlan {
  /** Generate a key that signs from this time (now for the very first key). */
  readonly generate?: { readonly activateAt: Date };
  /** Keys whose last token has expired: remove them from the Secret and the JWKS. */
  readonly retire: readonly string[];
}

const time = (iso: string): number => new Date(iso).getTime();

/** The key that signs at `now`: the most recently activated one. */
export function signingRecord<T extends Pick<KeyRecord, "activateAt" | "kid">>(records: readonly T[], now: Date): T | undefined {
  let best: T | undefined;
  for (const record of records) {
    const at = time(record.activateAt);
    if (at > now.getTime()) continue;
    if (best === undefined || at > time(best.activateAt) || (at === time(best.activateAt) && record.kid > best.kid)) {
      best = record;
    }
  }
  return best;
}

/** Plans rotation from the stored keys and the clock. Idempotent: planning again after applying yields nothing. */
export function planRotation(records: readonly KeyRecord[], now: Date, schedule: RotationSchedule): RotationPlan {
  const nowMs = now.getTime();
  if (records.length === 0) {
    // First start: nothing has been verified with an older key set, so the first key signs at once.
    return { generate: { activateAt: now }, retire: [] };
  }
  const current = signingRecord(records, now);
  const pending = records.filter((r) => time(r.activateAt) > nowMs);
  let generate: RotationPlan["generate"];
  if (current === undefined) {
    // Only pending keys (e.g. the clock moved back): keep waiting for the earliest one.
  } else if (pending.length === 0) {
    const due = time(current.activateAt) + schedule.rotationMs;
    const algorithmChanged = current.alg !== schedule.algorithm;
    if (algorithmChanged || nowMs >= due - schedule.prePublicationMs) {
      const activateAt = algorithmChanged ? nowMs + schedule.prePublicationMs : Math.max(due, nowMs + schedule.prePublicationMs);
      generate = { activateAt: new Date(activateAt) };
    }
  }

  // A superseded key last signed when its successor activated (plus a slow replica's reload delay); it stays
  // published until every token it signed has expired.
  const keep = schedule.maxTokenTtlMs + schedule.reloadMs + schedule.leewayMs;
  const activated = records
    .filter((r) => time(r.activateAt) <= nowMs)
    .sort((a, b) => time(a.activateAt) - time(b.activateAt) || (a.kid < b.kid ? -1 : 1));
  const retire: string[] = [];
  for (let i = 0; i < activated.length - 1; i++) {
    const record = activated[i];
    const successor = activated[i + 1];
    if (record === undefined || successor === undefined) continue;
    if (nowMs >= time(successor.activateAt) + keep) retire.push(record.kid);
  }
  return { ...(generate === undefined ? {} : { generate }), retire };
}
