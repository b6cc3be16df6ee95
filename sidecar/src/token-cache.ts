// Pure state of every token the sidecar holds: when each is refreshed, retried, served, evicted or reported missing.
import type { SidecarTokenSpec } from "../../api/exchange.ts";
import type { BackoffPolicy } from "./backoff.ts";
import { backoffDelayMs, refreshAtMs } from "./backoff.ts";
import type { SidecarErrorCode } from "./errors.ts";
import type { Denial, IssuedToken } from "./issuer-client.ts";
import { readJwtExpiry } from "./jwt-payload.ts";
import type { TokenKey } from "./token-key.ts";
import { keyId, tokenKey } from "./token-key.ts";

export interface CachePolicy {
  /** Refresh at this fraction of a token's lifetime. */
  readonly refreshFraction: number;
  /** +/- spread of the refresh point, as a fraction of it. */
  readonly refreshJitter: number;
  /** No refresh sooner than this after issue (guards against an issuer handing out 1-second tokens). */
  readonly minRefreshDelayMs: number;
  readonly backoff: BackoffPolicy;
  /** Most tokens asked for at run time kept at once; the least recently used goes first. */
  readonly maxOnDemand: number;
  /** A run-time token nobody asked for in this long is dropped instead of refreshed. */
  readonly onDemandIdleMs: number;
}

export const DEFAULT_CACHE_POLICY: CachePolicy = Object.freeze({
  refreshFraction: 0.5,
  refreshJitter: 0.1,
  minRefreshDelayMs: 1_000,
  // Capped at 30 s: a pod notices a returning issuer within half a minute; 1,000 pods retrying cost ~33 requests/s.
  backoff: Object.freeze({ baseMs: 1_000, capMs: 30_000, jitter: 0.2 }),
  maxOnDemand: 16,
  onDemandIdleMs: 10 * 60_000,
});

/** A token as held: what the issuer said plus when it was asked for and when it ends. */
export interface HeldToken {
  readonly accessToken: string;
  readonly issuedTokenType: string;
  /** DPoP when bound to the sidecar's key: the workload sends it with the DPoP scheme and a proof from POST /v1/proof. */
  readonly tokenType: "Bearer" | "DPoP";
  readonly scope: string | undefined;
  /** When the exchange that produced it was sent (compared against re-issuance notices). */
  readonly requestedAt: Date;
  readonly receivedAt: Date;
  readonly expiresAt: Date;
}

export type LastError =
  | { readonly kind: "denied"; readonly denial: Denial }
  | { readonly kind: "failed"; readonly code: SidecarErrorCode; readonly message: string };

export type Lookup =
  | { readonly state: "fresh"; readonly token: HeldToken }
  | { readonly state: "unknown" }
  | {
      readonly state: "missing";
      /** True when an exchange may start now (not in backoff, none in flight). */
      readonly due: boolean;
      readonly inFlight: boolean;
      readonly lastError: LastError | undefined;
    };

/** Read-only view of one entry, for metrics, files and readiness. */
export interface EntryView {
  readonly key: TokenKey;
  /** Configured names held under this key; empty for run-time tokens. */
  readonly names: readonly string[];
  readonly configured: boolean;
  readonly token: HeldToken | undefined;
  readonly failures: number;
  readonly lastError: LastError | undefined;
  readonly nextAttemptAt: Date;
}

interface Entry {
  readonly key: TokenKey;
  readonly names: string[];
  readonly configured: boolean;
  token: HeldToken | undefined;
  nextAttemptAt: number;
  failures: number;
  lastError: LastError | undefined;
  inFlightSince: number | undefined;
  /** A re-issuance notice arrived while an exchange was in flight: refresh again once it lands. */
  refreshAgain: boolean;
  lastUsedAt: number;
}

export interface TokenCacheOptions {
  readonly tokens: readonly SidecarTokenSpec[];
  readonly now: () => Date;
  readonly random: () => number;
  readonly policy?: Partial<CachePolicy>;
}

export class TokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #byName = new Map<string, TokenKey>();
  readonly #now: () => Date;
  readonly #random: () => number;
  readonly #policy: CachePolicy;

  constructor(options: TokenCacheOptions) {
    this.#now = options.now;
    this.#random = options.random;
    this.#policy = { ...DEFAULT_CACHE_POLICY, ...options.policy };
    const t = this.#ms();
    for (const spec of options.tokens) {
      const key = tokenKey(spec.audience, spec.scopes ?? []);
      this.#byName.set(spec.name, key);
      const existing = this.#entries.get(keyId(key));
      if (existing === undefined) {
        this.#entries.set(keyId(key), newEntry(key, [spec.name], true, t));
      } else {
        existing.names.push(spec.name);
      }
    }
  }

  /** The key a configured token name stands for. */
  keyForName(name: string): TokenKey | undefined {
    return this.#byName.get(name);
  }

  /** What a request for `key` finds now; counts as a use for LRU and idle eviction. */
  lookup(key: TokenKey): Lookup {
    const entry = this.#entries.get(keyId(key));
    if (entry === undefined) return { state: "unknown" };
    const t = this.#ms();
    entry.lastUsedAt = t;
    if (entry.token !== undefined && entry.token.expiresAt.getTime() > t) return { state: "fresh", token: entry.token };
    return {
      state: "missing",
      due: entry.inFlightSince === undefined && entry.nextAttemptAt <= t,
      inFlight: entry.inFlightSince !== undefined,
      lastError: entry.lastError,
    };
  }

  /** Adds a run-time token entry (due at once), evicting the least recently used run-time entries beyond the bound. */
  ensure(key: TokenKey): void {
    const id = keyId(key);
    if (this.#entries.has(id)) return;
    const t = this.#ms();
    this.#entries.set(id, newEntry(key, [], false, t));
    const onDemand = [...this.#entries.entries()].filter(([, e]) => !e.configured);
    const excess = onDemand.length - this.#policy.maxOnDemand;
    if (excess > 0) {
      onDemand
        .filter(([i, e]) => i !== id && e.inFlightSince === undefined)
        .sort(([, a], [, b]) => a.lastUsedAt - b.lastUsedAt)
        .slice(0, excess)
        .forEach(([i]) => this.#entries.delete(i));
    }
  }

  /**
   * Keys whose refresh is due now, for the background refresher. Run-time tokens are refreshed in the background
   * only while held and used recently; idle ones are dropped here, and ones never obtained are tried on request.
   */
  due(): TokenKey[] {
    const t = this.#ms();
    const keys: TokenKey[] = [];
    for (const [id, e] of this.#entries) {
      if (e.inFlightSince !== undefined || e.nextAttemptAt > t) continue;
      if (!e.configured) {
        if (t - e.lastUsedAt >= this.#policy.onDemandIdleMs) {
          this.#entries.delete(id);
          continue;
        }
        if (e.token === undefined) continue;
      }
      keys.push(e.key);
    }
    return keys;
  }

  /** Marks an exchange for `key` as started; false when one is already running or the key is unknown. */
  begin(key: TokenKey): boolean {
    const entry = this.#entries.get(keyId(key));
    if (entry === undefined || entry.inFlightSince !== undefined) return false;
    entry.inFlightSince = this.#ms();
    return true;
  }

  /** Stores a granted token and schedules its refresh at the jittered half-life. */
  succeeded(key: TokenKey, issued: IssuedToken): HeldToken | undefined {
    const entry = this.#entries.get(keyId(key));
    if (entry === undefined) return undefined;
    const t = this.#ms();
    const requestedAt = entry.inFlightSince ?? t;
    // The issuer's expires_in is relative to its reply; a JWT's own exp, when readable, is the hard limit.
    const byExpiresIn = t + issued.expiresInSeconds * 1000;
    const byExp = readJwtExpiry(issued.accessToken)?.getTime() ?? byExpiresIn;
    const expiresAt = Math.min(byExpiresIn, byExp);
    const token: HeldToken = Object.freeze({
      accessToken: issued.accessToken,
      issuedTokenType: issued.issuedTokenType,
      tokenType: issued.tokenType,
      scope: issued.scope,
      requestedAt: new Date(requestedAt),
      receivedAt: new Date(t),
      expiresAt: new Date(expiresAt),
    });
    entry.token = token;
    entry.failures = 0;
    entry.lastError = undefined;
    entry.inFlightSince = undefined;
    const p = this.#policy;
    entry.nextAttemptAt = entry.refreshAgain
      ? t
      : refreshAtMs(t, expiresAt, p.refreshFraction, p.refreshJitter, p.minRefreshDelayMs, this.#random);
    entry.refreshAgain = false;
    return token;
  }

  /**
   * The issuer refused: the entitlement is gone, so the held token is dropped at once (serving it until exp would
   * outlive a revocation). Retried with backoff in case the policy comes back.
   */
  denied(key: TokenKey, denial: Denial): void {
    const entry = this.#entries.get(keyId(key));
    if (entry === undefined) return;
    entry.token = undefined;
    this.#failedAttempt(entry, { kind: "denied", denial });
  }

  /** No usable answer: keep serving the held token until its exp, retry with capped exponential backoff. */
  failed(key: TokenKey, code: SidecarErrorCode, message: string): void {
    const entry = this.#entries.get(keyId(key));
    if (entry === undefined) return;
    this.#failedAttempt(entry, { kind: "failed", code, message });
  }

  #failedAttempt(entry: Entry, error: LastError): void {
    const t = this.#ms();
    entry.failures += 1;
    entry.lastError = error;
    entry.inFlightSince = undefined;
    entry.nextAttemptAt = entry.refreshAgain ? t : t + backoffDelayMs(this.#policy.backoff, entry.failures, this.#random);
    entry.refreshAgain = false;
  }

  /**
   * The re-issuance channel said the pod's entitlement changed: every token requested before `requestedBefore`
   * (all of them when omitted) is refreshed now, backoff forgotten; exchanges in flight are repeated when they land.
   */
  refreshAll(requestedBefore?: Date): number {
    const t = this.#ms();
    const limit = requestedBefore?.getTime() ?? Number.POSITIVE_INFINITY;
    let count = 0;
    for (const e of this.#entries.values()) {
      if (e.inFlightSince !== undefined) {
        if (e.inFlightSince < limit) {
          e.refreshAgain = true;
          count += 1;
        }
        continue;
      }
      if (e.token !== undefined && e.token.requestedAt.getTime() >= limit) continue;
      if (!e.configured && e.token === undefined) continue;
      e.nextAttemptAt = t;
      e.failures = 0;
      count += 1;
    }
    return count;
  }

  /** When the background refresher should next look at the cache. */
  nextWakeAt(): Date | undefined {
    let next = Number.POSITIVE_INFINITY;
    for (const e of this.#entries.values()) {
      if (e.inFlightSince !== undefined) continue;
      if (!e.configured && e.token === undefined) continue;
      next = Math.min(next, e.nextAttemptAt);
    }
    return Number.isFinite(next) ? new Date(next) : undefined;
  }

  /** Ready when every configured token is held and unexpired; `missing` names the ones that are not. */
  readiness(): { readonly ready: boolean; readonly missing: readonly string[] } {
    const t = this.#ms();
    const missing: string[] = [];
    for (const e of this.#entries.values()) {
      if (!e.configured) continue;
      if (e.token === undefined || e.token.expiresAt.getTime() <= t) missing.push(...e.names);
    }
    return { ready: missing.length === 0, missing };
  }

  entries(): EntryView[] {
    return [...this.#entries.values()].map((e) => ({
      key: e.key,
      names: [...e.names],
      configured: e.configured,
      token: e.token,
      failures: e.failures,
      lastError: e.lastError,
      nextAttemptAt: new Date(e.nextAttemptAt),
    }));
  }

  /** Configured names held under `key` (their files are rewritten with each refresh). */
  namesFor(key: TokenKey): readonly string[] {
    return [...(this.#entries.get(keyId(key))?.names ?? [])];
  }

  #ms(): number {
    return this.#now().getTime();
  }
}

function newEntry(key: TokenKey, names: string[], configured: boolean, t: number): Entry {
  return {
    key,
    names,
    configured,
    token: undefined,
    nextAttemptAt: t,
    failures: 0,
    lastError: undefined,
    inFlightSince: undefined,
    refreshAgain: false,
    lastUsedAt: t,
  };
}
