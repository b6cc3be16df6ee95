// Token-bucket limiter keyed by (pod, reason), pure with an injected clock: a denial loop yields one Event, not a storm.

export interface TokenBucketOptions {
  /** Events allowed in a burst per key. */
  readonly burst: number;
  /** Seconds to refill one token. */
  readonly refillSeconds: number;
  /** Keys tracked at most; the least recently used is forgotten first (it then starts with a full bucket). */
  readonly maxKeys: number;
  readonly now: () => Date;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class KeyedTokenBucket {
  readonly #options: TokenBucketOptions;
  // A Map iterates in insertion order; re-inserting on use makes the first key the least recently used.
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: TokenBucketOptions) {
    if (options.burst < 1 || options.refillSeconds <= 0 || options.maxKeys < 1) {
      throw new TypeError("burst and maxKeys must be at least 1 and refillSeconds positive");
    }
    this.#options = options;
  }

  /** Takes one token for `key`; true when the action may proceed. */
  take(key: string): boolean {
    const nowMs = this.#options.now().getTime();
    const existing = this.#buckets.get(key);
    const bucket = existing ?? { tokens: this.#options.burst, updatedMs: nowMs };
    const elapsed = Math.max(0, nowMs - bucket.updatedMs) / 1000;
    bucket.tokens = Math.min(this.#options.burst, bucket.tokens + elapsed / this.#options.refillSeconds);
    bucket.updatedMs = nowMs;
    this.#buckets.delete(key);
    this.#buckets.set(key, bucket);
    this.#evict();
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Number of keys tracked (bounded by maxKeys). */
  get size(): number {
    return this.#buckets.size;
  }

  #evict(): void {
    while (this.#buckets.size > this.#options.maxKeys) {
      const oldest = this.#buckets.keys().next();
      if (oldest.done === true) return;
      this.#buckets.delete(oldest.value);
    }
  }
}
