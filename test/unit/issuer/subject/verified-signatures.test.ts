// Remembering verified projected-token signatures never changes what the verifier accepts or refuses.
import { createPublicKey, type KeyObject } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isIssuerError } from "../../../../controller/src/issuer/errors.ts";
import { JwksSubjectVerifier } from "../../../../controller/src/issuer/subject/subject-verifier.ts";
import { VerifiedSignatures } from "../../../../controller/src/issuer/subject/verified-signatures.ts";
import { NOW_S, projectedClaims, rsaClusterKey, ecClusterKey, RULES, signToken, type ClusterKey } from "../fixtures.ts";

/** A key set whose keys can be withdrawn and republished (as new key objects, like a JWKS refresh). */
function mutableKeySet(...keys: ClusterKey[]) {
  const published = new Map<string, KeyObject>(keys.map((k) => [k.kid, k.publicKey]));
  return {
    ready: true,
    get: (kid: string) => Promise.resolve(published.get(kid)),
    withdraw: (key: ClusterKey) => published.delete(key.kid),
    // A new KeyObject for the same public key, as a refreshed JWKS import produces.
    republish: (key: ClusterKey) => published.set(key.kid, createPublicKey({ key: key.publicKey.export({ format: "jwk" }), format: "jwk" })),
  };
}

async function outcome(verifier: JwksSubjectVerifier, token: string): Promise<string> {
  try {
    const identity = await verifier.verify(token);
    return `ok ${identity.pod.name}`;
  } catch (error) {
    if (isIssuerError(error)) return error.code;
    throw error;
  }
}

function flipLastSignatureChar(token: string): string {
  const last = token.at(-2) === "A" ? "B" : "A";
  return `${token.slice(0, -2)}${last}${token.at(-1) ?? ""}`;
}

const keyA = rsaClusterKey().publicKey;
const keyB = ecClusterKey().publicKey;

describe("VerifiedSignatures", () => {
  it.each<[string, (cache: VerifiedSignatures, key: KeyObject, other: KeyObject) => boolean]>([
    ["knows nothing it was not told", (cache, key) => !cache.verifiedWith("d", key, NOW_S)],
    ["answers yes for the digest and key it remembered", (cache, key) => (cache.remember("d", key, NOW_S + 60), cache.verifiedWith("d", key, NOW_S))],
    ["answers no for the same digest under another key object", (cache, key, other) => (cache.remember("d", key, NOW_S + 60), !cache.verifiedWith("d", other, NOW_S))],
    ["answers no once the token's exp has passed, and forgets it", (cache, key) => (cache.remember("d", key, NOW_S + 60), !cache.verifiedWith("d", key, NOW_S + 60) && cache.size === 0)],
    ["does not remember a token without a numeric exp", (cache, key) => (cache.remember("d", key, "soon"), cache.size === 0 && !cache.verifiedWith("d", key, NOW_S))],
  ])("%s", (_name, check) => {
    expect(check(new VerifiedSignatures(4), keyA, keyB)).toBe(true);
  });

  it("holds at most maxEntries, dropping the oldest first", () => {
    const key = keyA;
    const cache = new VerifiedSignatures(3);
    for (const digest of ["a", "b", "c", "d"]) cache.remember(digest, key, NOW_S + 60);
    expect(cache.size).toBe(3);
    expect(["a", "b", "c", "d"].map((d) => cache.verifiedWith(d, key, NOW_S))).toEqual([false, true, true, true]);
  });

  it("refuses a size that is not a positive integer", () => {
    expect(() => new VerifiedSignatures(0)).toThrow(RangeError);
  });

  it("digests the whole token, so tokens that differ in one character differ", () => {
    expect(VerifiedSignatures.digest("a.b.c")).not.toBe(VerifiedSignatures.digest("a.b.d"));
    expect(VerifiedSignatures.digest("a.b.c")).not.toContain("a.b.c");
  });
});

describe("JwksSubjectVerifier with remembered signatures", () => {
  const rsa = rsaClusterKey();
  const ec = ecClusterKey();

  it.each<[string, (keys: ReturnType<typeof mutableKeySet>, clock: { now: number }, good: string) => Promise<void> | void, string]>([
    ["accepts the same token again", () => undefined, "ok api-0"],
    ["refuses it once its key is withdrawn from the cluster's key set", (keys) => void keys.withdraw(rsa), "TokenKeyUnknown"],
    ["accepts it again when its key is republished as a new key object", (keys) => void keys.republish(rsa), "ok api-0"],
    ["refuses it once it has expired", (_keys, clock) => void (clock.now = NOW_S + 3540 + 31), "TokenExpired"],
  ])("after a first verification, %s", async (_name, change, expected) => {
    const keys = mutableKeySet(rsa);
    const clock = { now: NOW_S };
    const verifier = new JwksSubjectVerifier({ rules: RULES, keys, now: () => new Date(clock.now * 1000), verified: new VerifiedSignatures(8) });
    const good = signToken(rsa, projectedClaims());
    expect(await outcome(verifier, good)).toBe("ok api-0");
    await change(keys, clock, good);
    const plain = new JwksSubjectVerifier({ rules: RULES, keys, now: () => new Date(clock.now * 1000) });
    expect(await outcome(verifier, good)).toBe(expected);
    expect(await outcome(plain, good)).toBe(expected);
  });

  it("answers exactly as a verifier without memory over any sequence of genuine, tampered and re-keyed presentations", async () => {
    const tokens = [
      signToken(rsa, projectedClaims()),
      signToken(ec, projectedClaims({ jti: "second" })),
      signToken(rsa, projectedClaims({ exp: NOW_S + 100 })),
    ];
    const forged = tokens.map(flipLastSignatureChar);
    // The payload of one token under the signature of another: a digest of the signature alone would accept it.
    const spliced = `${tokens[0]?.split(".").slice(0, 2).join(".")}.${tokens[2]?.split(".")[2]}`;
    const pool = [...tokens, ...forged, spliced];
    const step = fc.oneof(
      fc.record({ present: fc.integer({ min: 0, max: pool.length - 1 }) }),
      fc.record({ advance: fc.integer({ min: 0, max: 200 }) }),
      fc.record({ withdraw: fc.constantFrom(rsa, ec) }),
      fc.record({ republish: fc.constantFrom(rsa, ec) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 25 }), fc.integer({ min: 1, max: 4 }), async (steps, size) => {
        const keys = mutableKeySet(rsa, ec);
        const clock = { now: NOW_S };
        const now = () => new Date(clock.now * 1000);
        const remembering = new JwksSubjectVerifier({ rules: RULES, keys, now, verified: new VerifiedSignatures(size) });
        const plain = new JwksSubjectVerifier({ rules: RULES, keys, now });
        for (const s of steps) {
          if ("present" in s) {
            const token = pool[s.present] ?? "";
            expect(await outcome(remembering, token)).toBe(await outcome(plain, token));
          } else if ("advance" in s) clock.now += s.advance;
          else if ("withdraw" in s) keys.withdraw(s.withdraw);
          else keys.republish(s.republish);
        }
      }),
      { numRuns: 200 },
    );
  }, 60_000);
});
