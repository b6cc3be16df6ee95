// Server DPoP nonces: valid in their slot and the next, never when tampered with or made with another secret.
import { describe, expect, it } from "vitest";
import { nonceSource } from "../../../verify/nonce.ts";

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
