// Remembered verifications: a token verifies once, keeps its checks' outcome until it expires, and never past it.
import { describe, expect, it } from "vitest";
import { isVerifyError } from "../../../verify/index.ts";
import { VerifiedTokens } from "../../../verify/verified-tokens.ts";
import { tesseraClaims } from "../../../verify/claims.ts";
import { testIssuer, verifierFor } from "./fixtures.ts";

describe("remembered verifications", () => {
  it("refuses a remembered token once it expires", async () => {
    let clock = Date.parse("2026-12-03T12:00:00Z");
    const now = (): Date => new Date(clock);
    const issuer = await testIssuer(now);
    const verifier = verifierFor(issuer, now, { leewaySeconds: 0 });
    const token = await issuer.mint({ exp: Math.floor(clock / 1000) + 60 });
    expect((await verifier.verifyToken(token)).jti).toBeTypeOf("string");
    clock += 61_000;
    const error = await verifier.verifyToken(token).catch((e: unknown) => e);
    expect(isVerifyError(error, "TokenExpired")).toBe(true);
  });

  it("remembers at most its capacity, forgetting the least recently used", () => {
    const cache = new VerifiedTokens({ capacity: 2 });
    const claims = tesseraClaims({ iss: "i", sub: "s", aud: "a", exp: 200, iat: 100, jti: "j", client_id: "c" });
    cache.set("a", claims);
    cache.set("b", claims);
    expect(cache.get("a", 150)).toBe(claims);
    cache.set("c", claims);
    expect([cache.get("a", 150), cache.get("b", 150), cache.get("c", 150)]).toEqual([claims, undefined, claims]);
  });

  it("never answers for a token past its exp", () => {
    const cache = new VerifiedTokens({ capacity: 2 });
    cache.set("a", tesseraClaims({ iss: "i", sub: "s", aud: "a", exp: 200, iat: 100, jti: "j", client_id: "c" }));
    expect(cache.get("a", 200)).toBeUndefined();
  });
});
