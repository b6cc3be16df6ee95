// A level-based, deduplicating, rate-limited work queue (timers injected): a key queued while it is processed runs again after.
import type { Timers } from "./timers.ts";

export interface WorkQueueMetrics {
  depth(n: number): void;
  /** Seconds a key waited between being queued and handed to a worker. */
  queueLatency(seconds: number): void;
}

export interface WorkQueueOptions {
  readonly timers: Timers;
  /** Per-key backoff on repeated failure: base * 2^failures, capped. */
  readonly itemBackoff?: { readonly baseMs: number; readonly maxMs: number };
  /** Overall token bucket applied to rate-limited adds: sustained rate and burst. */
  readonly bucket?: { readonly perSecond: number; readonly burst: number };
  readonly metrics?: WorkQueueMetrics;
}

const DEFAULT_ITEM_BACKOFF = { baseMs: 5, maxMs: 60_000 };
const DEFAULT_BUCKET = { perSecond: 10, burst: 100 };

/** Overall token bucket: reserving a token may put the bucket in debt; the debt is the delay. */
export class TokenBucket {
  readonly #perSecond: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;

  constructor(perSecond: number, burst: number, now: number) {
    this.#perSecond = perSecond;
    this.#burst = burst;
    this.#tokens = burst;
    this.#last = now;
  }

  /** Reserves one token; returns how long to wait (ms) before using it. */
  reserve(now: number): number {
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#perSecond);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#perSecond) * 1000);
  }
}

export class WorkQueue {
  readonly #timers: Timers;
  readonly #itemBackoff: { baseMs: number; maxMs: number };
  readonly #bucket: TokenBucket;
  readonly #metrics: WorkQueueMetrics | undefined;
  readonly #queue: string[] = [];
  /** Keys waiting to be processed (queued, or queued again while processing). */
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #addedAt = new Map<string, number>();
  readonly #failures = new Map<string, number>();
  /** Delayed adds: key -> due time and timer; an earlier add replaces a later one. */
  readonly #waiting = new Map<string, { due: number; handle: unknown }>();
  readonly #getters: ((key: string | undefined) => void)[] = [];
  #shutDown = false;

  constructor(opts: WorkQueueOptions) {
    this.#timers = opts.timers;
    this.#itemBackoff = opts.itemBackoff ?? DEFAULT_ITEM_BACKOFF;
    const bucket = opts.bucket ?? DEFAULT_BUCKET;
    this.#bucket = new TokenBucket(bucket.perSecond, bucket.burst, opts.timers.now());
    this.#metrics = opts.metrics;
  }

  /** Keys ready to be handed out (not counting delayed or in-flight ones). */
  get length(): number {
    return this.#queue.length;
  }

  get isShutDown(): boolean {
    return this.#shutDown;
  }

  add(key: string): void {
    if (this.#shutDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    this.#addedAt.set(key, this.#timers.now());
    // Level-based: a key being processed is not handed out twice; done() re-queues it.
    if (this.#processing.has(key)) return;
    this.#push(key);
  }

  addAfter(key: string, ms: number): void {
    if (this.#shutDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const due = this.#timers.now() + ms;
    const existing = this.#waiting.get(key);
    if (existing !== undefined) {
      if (existing.due <= due) return;
      this.#timers.clearTimeout(existing.handle);
    }
    const handle = this.#timers.setTimeout(() => {
      this.#waiting.delete(key);
      this.add(key);
    }, ms);
    this.#waiting.set(key, { due, handle });
  }

  /** Re-queues after the longer of the key's own backoff and the overall bucket's delay. */
  addRateLimited(key: string): void {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const itemDelay = Math.min(this.#itemBackoff.maxMs, this.#itemBackoff.baseMs * 2 ** Math.min(failures, 30));
    this.addAfter(key, Math.max(itemDelay, this.#bucket.reserve(this.#timers.now())));
  }

  /** Forgets a key's failure history (call after it succeeded). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Next key to process, or undefined once shut down. The caller must call done(key). */
  get(): Promise<string | undefined> {
    const key = this.#queue.shift();
    if (key !== undefined) return Promise.resolve(this.#handOut(key));
    if (this.#shutDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key) && !this.#shutDown) this.#push(key);
  }

  shutDown(): void {
    this.#shutDown = true;
    for (const { handle } of this.#waiting.values()) this.#timers.clearTimeout(handle);
    this.#waiting.clear();
    for (const g of this.#getters.splice(0)) g(undefined);
  }

  #push(key: string): void {
    const getter = this.#getters.shift();
    if (getter !== undefined) {
      getter(this.#handOut(key));
      return;
    }
    this.#queue.push(key);
    this.#metrics?.depth(this.#queue.length);
  }

  #handOut(key: string): string {
    this.#dirty.delete(key);
    this.#processing.add(key);
    const added = this.#addedAt.get(key);
    this.#addedAt.delete(key);
    if (added !== undefined) this.#metrics?.queueLatency((this.#timers.now() - added) / 1000);
    this.#metrics?.depth(this.#queue.length);
    return key;
  }
}
