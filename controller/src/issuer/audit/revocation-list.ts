// The revocation list as data: jti -> exp (unix seconds), pruned once a token could no longer be used anyway.

import { AuditEndpointError } from "./errors.ts";
import { REVOCATION_QUOTA_KEY } from "./revocation-quota.ts";

/** A ConfigMap data key must match this (Kubernetes validation), so a jti outside it cannot be stored. */
const CONFIG_MAP_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

/** Revoked jti -> the revoked token's exp in unix seconds. */
export type RevocationEntries = ReadonlyMap<string, number>;

/** True when `jti` can be a key of the revocation ConfigMap. */
export function isStorableJti(jti: string): boolean {
  return CONFIG_MAP_KEY.test(jti) && jti !== "." && jti !== ".." && jti !== REVOCATION_QUOTA_KEY;
}

/** Parses ConfigMap data; entries that are not a storable jti with an integer exp are ignored (never trusted). */
export function parseRevocations(data: Readonly<Record<string, string>> | undefined): Map<string, number> {
  const entries = new Map<string, number>();
  for (const [jti, value] of Object.entries(data ?? {})) {
    const exp = Number(value);
    if (isStorableJti(jti) && /^\d{1,12}$/.test(value) && Number.isSafeInteger(exp)) entries.set(jti, exp);
  }
  return entries;
}

/** Entries whose token is still unexpired at `nowSeconds`: an expired token is inactive without help. */
export function pruneRevocations(entries: RevocationEntries, nowSeconds: number): Map<string, number> {
  return new Map([...entries].filter(([, exp]) => exp > nowSeconds));
}

/**
 * The list with `jti` added (keeping the later exp if it is already there), expired entries pruned. Throws
 * RevocationListFull beyond `maxEntries`: the ConfigMap is capped at 1 MiB, and refusing loudly beats a write the
 * apiserver rejects.
 */
export function addRevocation(
  entries: RevocationEntries,
  jti: string,
  exp: number,
  nowSeconds: number,
  maxEntries: number,
): Map<string, number> {
  if (!isStorableJti(jti)) throw new AuditEndpointError("InvalidRequest", "jti must be 1-253 characters of [-._a-zA-Z0-9]");
  const next = pruneRevocations(entries, nowSeconds);
  if (exp <= nowSeconds) return next;
  next.set(jti, Math.max(exp, next.get(jti) ?? 0));
  if (next.size > maxEntries) {
    throw new AuditEndpointError("RevocationListFull", `the revocation list holds ${maxEntries} unexpired entries already`);
  }
  return next;
}

/** True when `jti` is revoked and its token not yet expired. */
export function isRevokedIn(entries: RevocationEntries, jti: string, nowSeconds: number): boolean {
  const exp = entries.get(jti);
  return exp !== undefined && exp > nowSeconds;
}

/** ConfigMap data for the list, keys sorted so identical lists serialize identically. */
export function serializeRevocations(entries: RevocationEntries): Record<string, string> {
  return Object.fromEntries([...entries].sort(([a], [b]) => a.localeCompare(b)).map(([jti, exp]) => [jti, String(exp)]));
}
