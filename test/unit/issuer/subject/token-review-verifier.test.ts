// TokenReview mode: local checks before any apiserver call, the answer remembered per token, and a deadline on the call.
import { describe, expect, it } from "vitest";
import { ACCESS_TOKEN_TYP } from "../../../../api/constants.ts";
import { isIssuerError, IssuerError, type IssuerErrorCode } from "../../../../controller/src/issuer/errors.ts";
import type { PodInfo } from "../../../../controller/src/issuer/subject/pod-lookup.ts";
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
const POD: PodInfo = {
  namespace: "shop",
  name: "api-0",
  uid: "pod-uid-1",
  serviceAccountName: "api",
  labels: {},
  annotations: {},
  phase: "Running",
};

type Answer = TokenReviewResult | "hang" | "unreachable";

/** A scripted apiserver and pod cache with a clock the test moves; counts every TokenReview. */
function cluster(answer: Answer = ACCEPTED, options: { deadlineMs?: number; maxInFlight?: number } = {}) {
  const state = { answer, reviews: 0, nowMs: NOW.getTime(), pods: [POD] as PodInfo[], lookupFails: false, signals: [] as AbortSignal[] };
  const verifier = new TokenReviewSubjectVerifier({
    rules: RULES,
    now: () => new Date(state.nowMs),
    pods: {
      get: (ns, name) => {
        if (state.lookupFails) throw new IssuerError("UpstreamUnavailable", `reading pod ${ns}/${name} failed`);
        return state.pods.find((p) => p.namespace === ns && p.name === name);
      },
    },
    ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }),
    ...(options.maxInFlight === undefined ? {} : { maxInFlight: options.maxInFlight }),
    reviewer: {
      review: (_token, _audiences, signal) => {
        state.reviews += 1;
        if (signal !== undefined) state.signals.push(signal);
        if (state.answer === "hang") return new Promise<never>(() => undefined);
        if (state.answer === "unreachable") return Promise.reject(new IssuerError("UpstreamUnavailable", "connection refused"));
        return Promise.resolve(state.answer);
      },
    },
  });
  return { state, verifier };
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
  it.each([
    ["forgets a deleted pod's remembered review, so its token would be reviewed again", "pod-uid-1", 2],
    ["keeps the review of a pod that was not deleted", "pod-uid-other", 1],
  ])("%s", async (_name, deleted, reviews) => {
    const { state, verifier } = cluster();
    await verifier.verify(token);
    verifier.forgetPod(deleted);
    await verifier.verify(token);
    expect(state.reviews).toBe(reviews);
  });

  it("accepts a token the apiserver authenticates for Tessera's audience", async () => {
    expect((await cluster().verifier.verify(token)).pod).toEqual({ name: "api-0", uid: "pod-uid-1" });
  });

  it.each<[string, TokenReviewResult]>([
    ["the apiserver does not authenticate it", { ...ACCEPTED, authenticated: false, error: "pod not found" }],
    ["the apiserver authenticates it for another audience", { ...ACCEPTED, audiences: ["https://kubernetes.default.svc"] }],
    ["the apiserver names another user", { ...ACCEPTED, username: "system:serviceaccount:shop:admin" }],
    ["the apiserver names another pod", { ...ACCEPTED, extra: { "authentication.kubernetes.io/pod-uid": ["other"] } }],
  ])("refuses the token when %s", async (_name, result) => {
    expect(await codeOf(cluster(result).verifier, token)).toBe("TokenReviewRejected");
  });

  it.each<[string, string, IssuerErrorCode]>([
    ["a Tessera token", signToken(key, projectedClaims(), { typ: ACCESS_TOKEN_TYP }), "TokenKindMismatch"],
    ["an expired token", signToken(key, projectedClaims({ exp: NOW_S - 100 })), "TokenExpired"],
    ["a token that is not a JWS", "not-a-token", "TokenMalformed"],
    [
      "a forged token for a pod that does not exist",
      signToken(rsaClusterKey(), projectedClaims({ "kubernetes.io": { namespace: "shop", pod: { name: "ghost-0", uid: "u" }, serviceaccount: { name: "api", uid: "s" } } })),
      "PodNotFound",
    ],
    [
      "a forged token naming an earlier pod of the same name",
      signToken(rsaClusterKey(), projectedClaims({ "kubernetes.io": { namespace: "shop", pod: { name: "api-0", uid: "old" }, serviceaccount: { name: "api", uid: "s" } } })),
      "PodUidMismatch",
    ],
  ])("refuses %s without asking the apiserver", async (_name, t, code) => {
    const { state, verifier } = cluster();
    expect(await codeOf(verifier, t)).toBe(code);
    expect(state.reviews).toBe(0);
  });

  it("refuses a token of a terminating pod without asking the apiserver", async () => {
    const { state, verifier } = cluster();
    state.pods = [{ ...POD, deletionTimestamp: NOW.toISOString() }];
    expect(await codeOf(verifier, token)).toBe("PodTerminating");
    expect(state.reviews).toBe(0);
  });

  it("reviews a known token once however often it is exchanged, until its exp", async () => {
    const { state, verifier } = cluster();
    for (let i = 0; i < 5; i += 1) await verifier.verify(token);
    expect(state.reviews).toBe(1);
    state.nowMs = (NOW_S + 3539) * 1000;
    await verifier.verify(token);
    expect(state.reviews).toBe(1);
    // Past exp (within the claim leeway) the remembered answer is gone and the apiserver is asked again.
    state.nowMs = (NOW_S + 3545) * 1000;
    await verifier.verify(token);
    expect(state.reviews).toBe(2);
  });

  it("forgets an accepted token when its pod is replaced, and reviews it again if the pod comes back", async () => {
    const { state, verifier } = cluster();
    await verifier.verify(token);
    state.pods = [{ ...POD, uid: "pod-uid-2" }];
    expect(await codeOf(verifier, token)).toBe("PodUidMismatch");
    state.pods = [POD];
    await verifier.verify(token);
    expect(state.reviews).toBe(2);
  });

  it("refuses a refused token again for 10 s without asking, then asks once more", async () => {
    const { state, verifier } = cluster({ ...ACCEPTED, authenticated: false });
    expect(await codeOf(verifier, token)).toBe("TokenReviewRejected");
    state.nowMs += 9_000;
    expect(await codeOf(verifier, token)).toBe("TokenReviewRejected");
    expect(state.reviews).toBe(1);
    state.nowMs += 2_000;
    state.answer = ACCEPTED;
    expect(await codeOf(verifier, token)).toBeUndefined();
    expect(state.reviews).toBe(2);
  });

  it("answers UpstreamUnavailable when the apiserver does not answer within the deadline, aborts the review, and remembers nothing", async () => {
    const { state, verifier } = cluster("hang", { deadlineMs: 20 });
    await expect(verifier.verify(token)).rejects.toSatisfy(
      (e) => isIssuerError(e, "UpstreamUnavailable") && e.oauthError === "temporarily_unavailable" && /within 20 ms/.test(e.message),
    );
    expect(state.signals.map((s) => s.aborted)).toEqual([true]);
    state.answer = ACCEPTED;
    await verifier.verify(token);
    expect(state.reviews).toBe(2);
  });

  it("keeps accepting a remembered token while the apiserver hangs or is unreachable, and only that token", async () => {
    const { state, verifier } = cluster(ACCEPTED, { deadlineMs: 20 });
    await verifier.verify(token);
    const fresh = signToken(key, projectedClaims({ jti: "second" }));
    for (const answer of ["hang", "unreachable"] as const) {
      state.answer = answer;
      expect(await codeOf(verifier, token)).toBeUndefined();
      expect(await codeOf(verifier, fresh)).toBe("UpstreamUnavailable");
    }
    expect(state.reviews).toBe(3);
  });

  it("keeps at most maxRemembered accepted tokens, dropping the least recently used", async () => {
    const state = { reviews: 0 };
    const verifier = new TokenReviewSubjectVerifier({
      rules: RULES,
      now: () => NOW,
      pods: { get: () => POD },
      maxRemembered: 2,
      reviewer: {
        review: () => {
          state.reviews += 1;
          return Promise.resolve(ACCEPTED);
        },
      },
    });
    const tokens = ["a", "b", "c"].map((jti) => signToken(key, projectedClaims({ jti })));
    const [a, b, c] = tokens as [string, string, string];
    await verifier.verify(a);
    await verifier.verify(b);
    await verifier.verify(a);
    await verifier.verify(c);
    expect(state.reviews).toBe(3);
    await verifier.verify(a);
    expect(state.reviews).toBe(3);
    await verifier.verify(b);
    expect(state.reviews).toBe(4);
  });

  it("sends one TokenReview for the same token verified twice at once", async () => {
    const { state, verifier } = cluster();
    await Promise.all([verifier.verify(token), verifier.verify(token)]);
    expect(state.reviews).toBe(1);
  });

  it("keeps an accepted token when the pod lookup itself fails", async () => {
    const { state, verifier } = cluster();
    await verifier.verify(token);
    state.lookupFails = true;
    expect(await codeOf(verifier, token)).toBe("UpstreamUnavailable");
    state.lookupFails = false;
    await verifier.verify(token);
    expect(state.reviews).toBe(1);
  });

  it("refuses a new token at once while maxInFlight reviews are outstanding, and asks again once they settle", async () => {
    const { state, verifier } = cluster("hang", { deadlineMs: 50, maxInFlight: 2 });
    const tokens = ["a", "b", "c"].map((jti) => signToken(key, projectedClaims({ jti })));
    const [a, b, c] = tokens as [string, string, string];
    const waiting = [codeOf(verifier, a), codeOf(verifier, b)];
    await new Promise((resolve) => setTimeout(resolve, 0));
    await expect(verifier.verify(c)).rejects.toSatisfy((e) => isIssuerError(e, "UpstreamUnavailable") && /2 TokenReviews are already waiting/.test(e.message));
    expect(state.reviews).toBe(2);
    expect(await Promise.all(waiting)).toEqual(["UpstreamUnavailable", "UpstreamUnavailable"]);
    state.answer = ACCEPTED;
    await verifier.verify(c);
    expect(state.reviews).toBe(3);
  });
});
