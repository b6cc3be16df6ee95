// Revocations per caller: how many unexpired entries each revoke caller added, so one caller cannot fill the list.
//
// Kept beside the entries in the revocation ConfigMap under one reserved key, as counts per caller and token expiry
// (a few bytes an entry, where a list of ids would double the ConfigMap). A count lapses with its tokens' expiry,
// exactly when their entries are pruned. Entries written before this existed belong to no caller: the list's global
// bound still covers them.
import { AuditEndpointError } from "./errors.ts";

/** Data key of the counts in the revocation ConfigMap; never a revocable jti (Tessera's are UUIDs). */
export const REVOCATION_QUOTA_KEY = "tessera.revocations-by-caller";

/** caller ("namespace/name") -> token exp (unix seconds) -> entries that caller added expiring then. */
export type RevocationCounts = ReadonlyMap<string, ReadonlyMap<number, number>>;

const CALLER = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Parses the counts; anything malformed is dropped (a lost count only lets a caller add more, bounded globally). */
export function parseRevocationCounts(raw: string | undefined): Map<string, Map<number, number>> {
  const counts = new Map<string, Map<number, number>>();
  if (raw === undefined) return counts;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return counts;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return counts;
  for (const [caller, byExp] of Object.entries(parsed as Record<string, unknown>)) {
    if (!CALLER.test(caller) || typeof byExp !== "object" || byExp === null || Array.isArray(byExp)) continue;
    const map = new Map<number, number>();
    for (const [expText, n] of Object.entries(byExp as Record<string, unknown>)) {
      const exp = Number(expText);
      if (/^\d{1,12}$/.test(expText) && typeof n === "number" && Number.isSafeInteger(n) && n > 0) map.set(exp, n);
    }
    if (map.size > 0) counts.set(caller, map);
  }
  return counts;
}

/** The counts as the ConfigMap value: callers and expiries sorted, so equal counts serialize equally. */
export function serializeRevocationCounts(counts: RevocationCounts): string {
  const out: Record<string, Record<string, number>> = {};
  for (const caller of [...counts.keys()].sort()) {
    const byExp = counts.get(caller) ?? new Map<number, number>();
    out[caller] = Object.fromEntries([...byExp].sort(([a], [b]) => a - b).map(([exp, n]) => [String(exp), n]));
  }
  return JSON.stringify(out);
}

/** Counts whose tokens are unexpired at `nowSeconds`. */
export function pruneRevocationCounts(counts: RevocationCounts, nowSeconds: number): Map<string, Map<number, number>> {
  const next = new Map<string, Map<number, number>>();
  for (const [caller, byExp] of counts) {
    const live = new Map([...byExp].filter(([exp]) => exp > nowSeconds));
    if (live.size > 0) next.set(caller, live);
  }
  return next;
}

/** Unexpired entries `caller` added. */
export function revocationsBy(counts: RevocationCounts, caller: string): number {
  let n = 0;
  for (const count of counts.get(caller)?.values() ?? []) n += count;
  return n;
}

/**
 * Counts with one more entry for `caller` expiring at `exp`, pruned at `nowSeconds`. Throws RevocationQuotaExceeded
 * (with the seconds until the caller's earliest entry lapses) when the caller already holds `maxPerCaller`.
 */
export function chargeRevocation(
  counts: RevocationCounts,
  caller: string,
  exp: number,
  nowSeconds: number,
  maxPerCaller: number,
): Map<string, Map<number, number>> {
  const next = pruneRevocationCounts(counts, nowSeconds);
  const held = next.get(caller) ?? new Map<number, number>();
  if (revocationsBy(next, caller) >= maxPerCaller) {
    const earliest = Math.min(...held.keys());
    throw new AuditEndpointError(
      "RevocationQuotaExceeded",
      `${caller} holds ${maxPerCaller} unexpired revocations, its share of the list; the earliest lapses in ` +
        `${earliest - nowSeconds} s (or revoke many tokens at once with a policy's revokeBefore)`,
      { retryAfterSeconds: Math.max(1, earliest - nowSeconds) },
    );
  }
  held.set(exp, (held.get(exp) ?? 0) + 1);
  next.set(caller, held);
  return next;
}
