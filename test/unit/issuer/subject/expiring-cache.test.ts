// The bounded, expiring map behind remembered TokenReview answers: deadlines, least-recently-used eviction, has().
import { describe, expect, it } from "vitest";
import { ExpiringCache } from "../../../../controller/src/issuer/subject/expiring-cache.ts";

describe("ExpiringCache", () => {
  it.each([
    ["holds a value before its deadline", 999, true],
    ["holds nothing at its deadline", 1_000, false],
  ])("%s", (_name, nowMs, held) => {
    const cache = new ExpiringCache<string>(4);
    cache.set("k", "v", 1_000);
    expect(cache.has("k", nowMs)).toBe(held);
    expect(cache.get("k", nowMs)).toBe(held ? "v" : undefined);
  });

  it("evicts the least recently used entry when full, and has() does not count as a use", () => {
    const cache = new ExpiringCache<number>(2);
    cache.set("a", 1, 10_000);
    cache.set("b", 2, 10_000);
    expect(cache.has("a", 0)).toBe(true);
    cache.set("c", 3, 10_000);
    expect([cache.has("a", 0), cache.has("b", 0), cache.has("c", 0)]).toEqual([false, true, true]);
  });
});
