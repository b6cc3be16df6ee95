// Verifying projected service-account tokens strictly (RFC 8725) with locally generated cluster keys.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ACCESS_TOKEN_TYP, K8S_TOKEN_CLAIM } from "../../../../api/constants.ts";
import { isIssuerError, type IssuerErrorCode } from "../../../../controller/src/issuer/errors.ts";
import { JwksSubjectVerifier } from "../../../../controller/src/issuer/subject/subject-verifier.ts";
import {
  CLUSTER_ISSUER,
  ecClusterKey,
  hs256WithPublicKey,
  keySetOf,
  NOW,
  NOW_S,
  projectedClaims,
  rsaClusterKey,
  RULES,
  signToken,
  TESSERA_ISSUER,
  unsignedToken,
} from "../fixtures.ts";

const rsa = rsaClusterKey();
const ec = ecClusterKey();
const other = rsaClusterKey("rsa-1");
const verifier = new JwksSubjectVerifier({ rules: RULES, keys: keySetOf(rsa, ec), now: () => NOW });

async function codeOf(token: string): Promise<IssuerErrorCode | undefined> {
  try {
    await verifier.verify(token);
    return undefined;
  } catch (error) {
    if (isIssuerError(error)) return error.code;
    throw error;
  }
}

describe("JwksSubjectVerifier", () => {
  it.each([
    ["RS256", rsa],
    ["ES256", ec],
  ] as const)("accepts a projected token signed with %s and reports its pod binding", async (_alg, key) => {
    const identity = await verifier.verify(signToken(key, projectedClaims()));
    expect(identity).toMatchObject({
      issuer: CLUSTER_ISSUER,
      subject: "system:serviceaccount:shop:api",
      namespace: "shop",
      serviceAccount: { name: "api", uid: "sa-uid-1" },
      pod: { name: "api-0", uid: "pod-uid-1" },
      node: { name: "node-a", uid: "node-uid-a" },
    });
  });

  it("accepts a string aud", async () => {
    expect(await codeOf(signToken(rsa, projectedClaims({ aud: RULES.audience })))).toBeUndefined();
  });

  const { [K8S_TOKEN_CLAIM]: _k8s, ...withoutK8s } = projectedClaims();
  const { exp: _exp, ...withoutExp } = projectedClaims();
  const { iat: _iat, ...withoutIat } = projectedClaims();

  it.each<[string, () => string, IssuerErrorCode]>([
    ["an unsigned token (alg none)", () => unsignedToken(projectedClaims(), rsa.kid), "TokenMalformed"],
    ["alg none with a signature part", () => signToken(rsa, projectedClaims(), { alg: "none" }), "TokenAlgorithmNotAllowed"],
    ["HS256 signed with the cluster's public key", () => hs256WithPublicKey(rsa, projectedClaims()), "TokenAlgorithmNotAllowed"],
    ["RS256 claimed for an EC key", () => signToken(ec, projectedClaims(), { alg: "RS256" }), "TokenSignatureInvalid"],
    ["a key the cluster does not publish", () => signToken(rsaClusterKey("rogue"), projectedClaims()), "TokenKeyUnknown"],
    ["a forged signature under a published kid", () => signToken(other, projectedClaims()), "TokenSignatureInvalid"],
    ["no kid", () => signToken(rsa, projectedClaims(), { kid: undefined }), "TokenKeyUnknown"],
    ["a crit header", () => signToken(rsa, projectedClaims(), { crit: ["exp"] }), "TokenMalformed"],
    ["another issuer", () => signToken(rsa, projectedClaims({ iss: "https://other.cluster" })), "TokenIssuerMismatch"],
    ["the wrong audience", () => signToken(rsa, projectedClaims({ aud: ["https://kubernetes.default.svc"] })), "TokenAudienceMismatch"],
    ["an expired token", () => signToken(rsa, projectedClaims({ exp: NOW_S - 31 })), "TokenExpired"],
    ["nbf in the future", () => signToken(rsa, projectedClaims({ nbf: NOW_S + 120 })), "TokenNotYetValid"],
    ["iat in the future", () => signToken(rsa, projectedClaims({ iat: NOW_S + 120 })), "TokenNotYetValid"],
    ["a token older than the maximum age", () => signToken(rsa, projectedClaims({ iat: NOW_S - 86_400 - 31 })), "TokenTooOld"],
    ["no exp", () => signToken(rsa, withoutExp), "TokenClaimsMissing"],
    ["no iat", () => signToken(rsa, withoutIat), "TokenClaimsMissing"],
    ["no kubernetes.io claims (a legacy Secret token)", () => signToken(rsa, withoutK8s), "TokenClaimsMissing"],
    [
      "no pod binding",
      () => signToken(rsa, projectedClaims({ [K8S_TOKEN_CLAIM]: { namespace: "shop", serviceaccount: { name: "api", uid: "u" } } })),
      "TokenClaimsMissing",
    ],
    ["a sub that disagrees with kubernetes.io", () => signToken(rsa, projectedClaims({ sub: "system:serviceaccount:shop:admin" })), "TokenMalformed"],
    ["a Tessera access token (typ at+jwt)", () => signToken(rsa, projectedClaims(), { typ: ACCESS_TOKEN_TYP }), "TokenKindMismatch"],
    ["a Tessera access token (typ application/at+jwt)", () => signToken(rsa, projectedClaims(), { typ: "application/at+JWT" }), "TokenKindMismatch"],
    ["a token claiming Tessera's issuer", () => signToken(rsa, projectedClaims({ iss: TESSERA_ISSUER })), "TokenKindMismatch"],
    ["a payload that is not JSON", () => "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln", "TokenMalformed"],
    ["a JWE (five parts)", () => "a.b.c.d.e", "TokenMalformed"],
  ])("refuses %s", async (_name, make, code) => {
    expect(await codeOf(make())).toBe(code);
  });

  it("tolerates clock skew within the leeway", async () => {
    expect(await codeOf(signToken(rsa, projectedClaims({ exp: NOW_S - 10, nbf: NOW_S + 10, iat: NOW_S + 10 })))).toBeUndefined();
  });

  it("maps every refusal to invalid_grant", async () => {
    try {
      await verifier.verify(signToken(rsa, projectedClaims({ exp: NOW_S - 100 })));
      expect.unreachable();
    } catch (error) {
      expect(isIssuerError(error) && error.oauthError).toBe("invalid_grant");
    }
  });

  it("refuses arbitrary JSON headers, payloads and signatures with an IssuerError, never anything else", async () => {
    const segment = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
    await fc.assert(
      fc.asyncProperty(
        fc.record({ alg: fc.constantFrom("RS256", "ES256", "none", "HS256", 7), kid: fc.constantFrom(rsa.kid, ec.kid, "x") }, { requiredKeys: [] }),
        fc.oneof(fc.jsonValue(), fc.constant(projectedClaims())),
        fc.uint8Array({ maxLength: 300 }),
        async (header, payload, signature) => {
          const token = `${segment(header)}.${segment(payload)}.${Buffer.from(signature).toString("base64url")}`;
          await expect(verifier.verify(token)).rejects.toSatisfy((e) => isIssuerError(e));
        },
      ),
      { numRuns: 300 },
    );
  });
});
