// A bounded, least-recently-used map whose entries each carry their own expiry, for remembered TokenReview answers.

/**
 * Remembers values by key until each entry's own deadline. Past `maxEntries` the least recently used entry goes,
 * so whoever controls the keys (anyone who can send a token) can only push out old entries, never grow memory.
 * Expired entries are dropped when met. Time is passed in by the caller: the cache reads no clock.
 */
export class ExpiringCache<V> {
  readonly #maxEntries: number;
  readonly #entries = new Map<string, { readonly value: V; readonly untilMs: number }>();

  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    this.#maxEntries = maxEntries;
  }

  /** The value under `key` while `nowMs` is before its deadline; a hit becomes the most recently used entry. */
  get(key: string, nowMs: number): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.untilMs <= nowMs) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Remembers `value` until `untilMs`, evicting the least recently used entry when full. */
  set(key: string, value: V, untilMs: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, untilMs });
  }

  /** True while `key` holds a value before its deadline; unlike get, it leaves the recency order alone. */
  has(key: string, nowMs: number): boolean {
    const entry = this.#entries.get(key);
    return entry !== undefined && entry.untilMs > nowMs;
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
