// The replay cache stays within its capacity and never accepts a proof it had to forget.
import { describe, expect, it } from "vitest";
import { ReplayCache } from "../../../api/dpop-replay-cache.ts";

describe("ReplayCache", () => {
  it("answers replayed for a key seen before within its window", () => {
    const cache = new ReplayCache({ capacity: 10 });
    expect(cache.check("a", 100, 160, 100)).toBe("fresh");
    expect(cache.check("a", 100, 160, 110)).toBe("replayed");
  });

  it("forgets a key once its window closed", () => {
    const cache = new ReplayCache({ capacity: 10 });
    cache.check("a", 100, 160, 100);
    expect(cache.check("b", 170, 230, 170)).toBe("fresh");
    expect(cache.size).toBe(1);
  });

  it("never holds more than its capacity, and refuses proofs as old as one it evicted", () => {
    const cache = new ReplayCache({ capacity: 3 });
    for (const [key, iat] of [["a", 100], ["b", 101], ["c", 102], ["d", 103]] as const) cache.check(key, iat, iat + 60, 103);
    expect(cache.size).toBe(3);
    // "a" was evicted: a replay of it must still be refused.
    expect(cache.check("a", 100, 160, 104)).toBe("below-floor");
    expect(cache.check("e", 104, 164, 104)).toBe("fresh");
  });
});
