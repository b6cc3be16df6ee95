// TokenReview mode: the apiserver's answer is required and must agree with the token's claims.
import { describe, expect, it } from "vitest";
import { ACCESS_TOKEN_TYP } from "../../../../api/constants.ts";
import { isIssuerError, type IssuerErrorCode } from "../../../../controller/src/issuer/errors.ts";
import {
  TokenReviewSubjectVerifier,
  type TokenReviewResult,
} from "../../../../controller/src/issuer/subject/token-review-verifier.ts";
import { NOW, NOW_S, projectedClaims, rsaClusterKey, RULES, signToken } from "../fixtures.ts";

const key = rsaClusterKey();
const token = signToken(key, projectedClaims());
const ACCEPTED: TokenReviewResult = {
  authenticated: true,
  audiences: [RULES.audience],
  username: "system:serviceaccount:shop:api",
  uid: "sa-uid-1",
  extra: { "authentication.kubernetes.io/pod-uid": ["pod-uid-1"] },
};

function verifierAnswering(result: TokenReviewResult, calls: string[] = []) {
  return new TokenReviewSubjectVerifier({
    rules: RULES,
    now: () => NOW,
    reviewer: {
      review: (t) => {
        calls.push(t);
        return Promise.resolve(result);
      },
    },
  });
}

async function codeOf(verifier: TokenReviewSubjectVerifier, t: string): Promise<IssuerErrorCode | undefined> {
  try {
    await verifier.verify(t);
    return undefined;
  } catch (error) {
    if (isIssuerError(error)) return error.code;
    throw error;
  }
}

describe("TokenReviewSubjectVerifier", () => {
  it("accepts a token the apiserver authenticates for Tessera's audience", async () => {
    expect((await verifierAnswering(ACCEPTED).verify(token)).pod).toEqual({ name: "api-0", uid: "pod-uid-1" });
  });

  it.each<[string, TokenReviewResult]>([
    ["the apiserver does not authenticate it", { ...ACCEPTED, authenticated: false, error: "pod not found" }],
    ["the apiserver authenticates it for another audience", { ...ACCEPTED, audiences: ["https://kubernetes.default.svc"] }],
    ["the apiserver names another user", { ...ACCEPTED, username: "system:serviceaccount:shop:admin" }],
    ["the apiserver names another pod", { ...ACCEPTED, extra: { "authentication.kubernetes.io/pod-uid": ["other"] } }],
  ])("refuses the token when %s", async (_name, result) => {
    expect(await codeOf(verifierAnswering(result), token)).toBe("TokenReviewRejected");
  });

  it("never sends a Tessera token or an expired token to the apiserver", async () => {
    const calls: string[] = [];
    const verifier = verifierAnswering(ACCEPTED, calls);
    expect(await codeOf(verifier, signToken(key, projectedClaims(), { typ: ACCESS_TOKEN_TYP }))).toBe("TokenKindMismatch");
    expect(await codeOf(verifier, signToken(key, projectedClaims({ exp: NOW_S - 100 })))).toBe("TokenExpired");
    expect(calls).toEqual([]);
  });
});
