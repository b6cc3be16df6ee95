// Work queue: deduplication, level-based re-processing, per-key backoff and the overall token bucket.
import { describe, expect, it } from "vitest";
import { TokenBucket, WorkQueue } from "../../../controller/src/reconcile/work-queue.ts";
import { ManualTimers } from "./manual-timers.ts";

function queue(timers = new ManualTimers()) {
  return { timers, q: new WorkQueue({ timers, itemBackoff: { baseMs: 100, maxMs: 1_000 }, bucket: { perSecond: 10, burst: 2 } }) };
}

describe("WorkQueue", () => {
  it("hands out a key added several times only once", async () => {
    const { q } = queue();
    q.add("a");
    q.add("a");
    q.add("b");
    expect(q.length).toBe(2);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
    expect(q.length).toBe(0);
  });

  it("processes a key again after done when it was added while being processed", async () => {
    const { q } = queue();
    q.add("a");
    const key = await q.get();
    q.add("a");
    expect(q.length).toBe(0);
    q.done(key ?? "");
    expect(q.length).toBe(1);
    expect(await q.get()).toBe("a");
  });

  it("does not re-queue a key on done when nobody added it meanwhile", async () => {
    const { q } = queue();
    q.add("a");
    q.done((await q.get()) ?? "");
    expect(q.length).toBe(0);
  });

  it("wakes a waiting get when a key arrives", async () => {
    const { q } = queue();
    const pending = q.get();
    q.add("x");
    expect(await pending).toBe("x");
  });

  it.each([
    [1, 100],
    [2, 200],
    [3, 400],
    [5, 1_000],
  ])("after %i failure(s) the key comes back after %i ms", async (failures, delay) => {
    const { q, timers } = queue();
    for (let i = 0; i < failures - 1; i++) q.addRateLimited("a");
    timers.advance(10_000);
    while (q.length > 0) q.done((await q.get()) ?? "");
    // Refill the bucket so only the key's own backoff counts.
    timers.advance(10_000);
    q.addRateLimited("a");
    timers.advance(delay - 1);
    expect(q.length).toBe(0);
    timers.advance(1);
    expect(q.length).toBe(1);
  });

  it("forgets a key's failures after success", () => {
    const { q } = queue();
    q.addRateLimited("a");
    q.addRateLimited("a");
    expect(q.failures("a")).toBe(2);
    q.forget("a");
    expect(q.failures("a")).toBe(0);
  });

  it("keeps the earlier of two delayed adds", () => {
    const { q, timers } = queue();
    q.addAfter("a", 500);
    q.addAfter("a", 100);
    timers.advance(100);
    expect(q.length).toBe(1);
  });

  it("returns undefined from get after shutdown", async () => {
    const { q } = queue();
    const pending = q.get();
    q.shutDown();
    expect(await pending).toBeUndefined();
    q.add("a");
    expect(q.length).toBe(0);
  });
});

describe("TokenBucket", () => {
  it("lets a burst through and then spaces reservations at the sustained rate", () => {
    const bucket = new TokenBucket(10, 2, 0);
    expect(bucket.reserve(0)).toBe(0);
    expect(bucket.reserve(0)).toBe(0);
    expect(bucket.reserve(0)).toBe(100);
    expect(bucket.reserve(0)).toBe(200);
    expect(bucket.reserve(1_000)).toBe(0);
  });
});
