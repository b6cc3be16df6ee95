// The per-pod token bucket: burst, refill, retry time, independence of pods, the bound on pods held.
import { describe, expect, it } from "vitest";
import { PodRateLimiter } from "../../../../controller/src/issuer/exchange/pod-rate-limit.ts";

function takeN(limiter: PodRateLimiter, uid: string, n: number, atMs: number): boolean[] {
  return Array.from({ length: n }, () => limiter.take(uid, atMs).allowed);
}

describe("PodRateLimiter", () => {
  it("holds no bucket for a forgotten (deleted) pod", () => {
    const limiter = new PodRateLimiter({ perSecond: 2, burst: 3, maxPods: 10 });
    takeN(limiter, "a", 2, 0);
    takeN(limiter, "b", 1, 0);
    limiter.forget("a");
    expect(limiter.size).toBe(1);
  });

  it("allows a burst at once, then refuses with the seconds until the next token", () => {
    const limiter = new PodRateLimiter({ perSecond: 2, burst: 3, maxPods: 10 });
    expect(takeN(limiter, "a", 3, 0)).toEqual([true, true, true]);
    expect(limiter.take("a", 0)).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it("refills at the configured rate and never above the burst", () => {
    const limiter = new PodRateLimiter({ perSecond: 2, burst: 3, maxPods: 10 });
    takeN(limiter, "a", 3, 0);
    expect(limiter.take("a", 499).allowed).toBe(false);
    expect(limiter.take("a", 1_000).allowed).toBe(true);
    // An hour of quiet gives back the burst, not 7,200 exchanges.
    expect(takeN(limiter, "a", 4, 3_600_000)).toEqual([true, true, true, false]);
  });

  it("answers a slow rate's retry time in whole seconds, rounded up", () => {
    const limiter = new PodRateLimiter({ perSecond: 0.1, burst: 1, maxPods: 10 });
    limiter.take("a", 0);
    expect(limiter.take("a", 2_500)).toEqual({ allowed: false, retryAfterSeconds: 8 });
  });

  it("keeps each pod's share separate: one pod spending its burst leaves another untouched", () => {
    const limiter = new PodRateLimiter({ perSecond: 1, burst: 2, maxPods: 10 });
    expect(takeN(limiter, "noisy", 5, 0)).toEqual([true, true, false, false, false]);
    expect(takeN(limiter, "quiet", 2, 0)).toEqual([true, true]);
  });

  it("refills nothing when the clock steps back", () => {
    const limiter = new PodRateLimiter({ perSecond: 1, burst: 1, maxPods: 10 });
    limiter.take("a", 10_000);
    expect(limiter.take("a", 5_000).allowed).toBe(false);
    expect(limiter.take("a", 10_999).allowed).toBe(false);
    expect(limiter.take("a", 11_000).allowed).toBe(true);
  });

  it("holds at most maxPods buckets, dropping the least recently used", () => {
    const limiter = new PodRateLimiter({ perSecond: 1, burst: 1, maxPods: 2 });
    limiter.take("a", 0);
    limiter.take("b", 0);
    limiter.take("a", 0);
    limiter.take("c", 0);
    expect(limiter.size).toBe(2);
    // "a" was used after "b", so "b" went and comes back with a full bucket; "a" kept its empty one.
    expect(limiter.take("a", 0).allowed).toBe(false);
    expect(limiter.take("b", 0).allowed).toBe(true);
  });

  it.each([
    ["a zero rate", { perSecond: 0, burst: 1, maxPods: 1 }],
    ["a burst below one", { perSecond: 1, burst: 0.5, maxPods: 1 }],
    ["no room for any pod", { perSecond: 1, burst: 1, maxPods: 0 }],
  ])("refuses %s", (_name, options) => {
    expect(() => new PodRateLimiter(options)).toThrow(TypeError);
  });
});
