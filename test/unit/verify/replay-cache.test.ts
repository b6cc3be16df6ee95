// The replay cache stays within its capacity and never accepts a proof it had to forget.
import { describe, expect, it } from "vitest";
import { ReplayCache } from "../../../verify/replay-cache.ts";
import { nonceSource } from "../../../verify/nonce.ts";

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

describe("nonceSource", () => {
  const source = (now: () => number, secret = new Uint8Array(32).fill(7)) => nonceSource({ slotSeconds: 60, now, secret });
  const cases: readonly (readonly [string, (issued: string) => string, number, boolean])[] = [
    ["the current nonce is accepted", (n) => n, 0, true],
    ["a nonce from the previous slot is accepted", (n) => n, 60_000, true],
    ["a nonce two slots old is refused", (n) => n, 120_000, false],
    ["a tampered nonce is refused", (n) => `${n.slice(0, -2)}AA`, 0, false],
    ["an overlong nonce is refused", (n) => `${n}${n}`, 0, false],
  ];
  it.each(cases)("%s", (_name, alter, later, accepted) => {
    const issued = source(() => 1_000_000_000).current();
    expect(source(() => 1_000_000_000 + later).accepts(alter(issued))).toBe(accepted);
  });

  it("refuses a nonce made with another secret", () => {
    const issued = source(() => 0, new Uint8Array(32).fill(1)).current();
    expect(source(() => 0).accepts(issued)).toBe(false);
  });
});
