// A bounded memory of DPoP proofs already seen (issuer and verifier kit), with a rising floor so that forgetting never reopens a replay.

export interface ReplayCacheOptions {
  /** Most proofs remembered. Each entry is a 43-character key and two numbers. */
  readonly capacity: number;
}

/**
 * Remembers proof ids until the proof's acceptance window closes. When full, the oldest entry is dropped and the
 * cache refuses, from then on, every proof issued at or before that entry's iat: an evicted proof can then never be
 * accepted again, and an honest client (whose proofs carry the current time) is refused only when more than
 * `capacity` proofs arrive within one second. Insertion order is iat order up to the acceptance window, which is
 * why the front of the Map is the oldest.
 */
export class ReplayCache {
  readonly #capacity: number;
  readonly #entries = new Map<string, { readonly iat: number; readonly until: number }>();
  #floor = Number.NEGATIVE_INFINITY;

  constructor(options: ReplayCacheOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) throw new TypeError("capacity must be a positive integer");
    this.#capacity = options.capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Records `key` seen with `iat`, to be kept until `until` (seconds). Answers "fresh" the first time,
   * "replayed" when seen before, "below-floor" when the cache had to forget proofs this old.
   */
  check(key: string, iat: number, until: number, nowSeconds: number): "fresh" | "replayed" | "below-floor" {
    this.#dropExpired(nowSeconds);
    if (this.#entries.has(key)) return "replayed";
    if (iat <= this.#floor) return "below-floor";
    while (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.entries().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest[0]);
      this.#floor = Math.max(this.#floor, oldest[1].iat);
    }
    if (iat <= this.#floor) return "below-floor";
    this.#entries.set(key, { iat, until });
    return "fresh";
  }

  #dropExpired(nowSeconds: number): void {
    for (const [key, entry] of this.#entries) {
      // Entries are near iat order, so the first unexpired one ends the sweep: amortised O(1) per check.
      if (entry.until >= nowSeconds) break;
      this.#entries.delete(key);
    }
  }
}
