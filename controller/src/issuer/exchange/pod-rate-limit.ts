// Exchanges per pod: a token bucket per verified pod uid, pure (the caller passes the time), in a bounded map.

export interface PodRateLimitOptions {
  /** Tokens added per second: the sustained exchange rate one pod may keep up. */
  readonly perSecond: number;
  /** Bucket size: how many exchanges a pod may make at once after being quiet (start-up, a re-issuance wake-up). */
  readonly burst: number;
  /**
   * Buckets held at most. When full, the least recently used bucket is dropped; a dropped bucket comes back full,
   * which is what an idle pod's bucket would be anyway, so only a pod unseen for longest loses its history.
   */
  readonly maxPods: number;
}

/** What `take` answers: allowed, or refused with how long until the next exchange would be allowed. */
export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  atMs: number;
}

export class PodRateLimiter {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #maxPods: number;
  /** Insertion order is recency order: a bucket is re-inserted on every use. */
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: PodRateLimitOptions) {
    if (!(options.perSecond > 0) || !(options.burst >= 1) || !Number.isInteger(options.maxPods) || options.maxPods < 1) {
      throw new TypeError("PodRateLimiter needs perSecond > 0, burst >= 1 and a whole maxPods >= 1");
    }
    this.#perMs = options.perSecond / 1000;
    this.#burst = options.burst;
    this.#maxPods = options.maxPods;
  }

  /** Buckets held right now (tests, diagnostics). */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one exchange from `podUid`'s bucket at `nowMs`. */
  take(podUid: string, nowMs: number): RateDecision {
    const held = this.#buckets.get(podUid);
    let bucket: Bucket;
    if (held === undefined) {
      bucket = { tokens: this.#burst, atMs: nowMs };
    } else {
      this.#buckets.delete(podUid);
      // A clock that steps back refills nothing rather than draining the bucket.
      const elapsed = Math.max(0, nowMs - held.atMs);
      bucket = { tokens: Math.min(this.#burst, held.tokens + elapsed * this.#perMs), atMs: Math.max(nowMs, held.atMs) };
    }
    let decision: RateDecision;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      decision = { allowed: true };
    } else {
      const waitMs = (1 - bucket.tokens) / this.#perMs;
      decision = { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    }
    this.#buckets.set(podUid, bucket);
    if (this.#buckets.size > this.#maxPods) {
      const oldest = this.#buckets.keys().next();
      if (oldest.done !== true) this.#buckets.delete(oldest.value);
    }
    return decision;
  }

  /** Forgets a pod (deleted: its uid never comes back). */
  forget(podUid: string): void {
    this.#buckets.delete(podUid);
  }
}
