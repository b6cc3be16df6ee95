// The replica's TokenReview budget: reviews within it reach the apiserver, the rest fail at once and retry later.
import { describe, expect, it } from "vitest";
import { isIssuerError } from "../../../../controller/src/issuer/errors.ts";
import { budgetedTokenReviewer } from "../../../../controller/src/issuer/subject/token-review-budget.ts";
import type { TokenReviewResult, TokenReviewer } from "../../../../controller/src/issuer/subject/token-review-verifier.ts";

class CountingReviewer implements TokenReviewer {
  calls = 0;
  review(): Promise<TokenReviewResult> {
    this.calls += 1;
    return Promise.resolve({ authenticated: true, audiences: ["a"], extra: {} });
  }
}

/** Sends `count` reviews at `atMs` and says how many reached the apiserver and how many were refused as unavailable. */
async function send(reviewer: TokenReviewer, count: number): Promise<{ reviewed: number; unavailable: number }> {
  let reviewed = 0;
  let unavailable = 0;
  for (let i = 0; i < count; i++) {
    try {
      await reviewer.review(`t${String(i)}`, ["a"]);
      reviewed += 1;
    } catch (error) {
      if (!isIssuerError(error, "UpstreamUnavailable")) throw error;
      unavailable += 1;
    }
  }
  return { reviewed, unavailable };
}

describe("the TokenReview budget", () => {
  it.each([
    ["a burst within the bucket reaches the apiserver whole", { perSecond: 5, burst: 10 }, [[0, 10]], 10],
    ["a flood past the bucket gets only the burst through", { perSecond: 5, burst: 10 }, [[0, 1000]], 10],
    ["a second later the rate has refilled that many", { perSecond: 5, burst: 10 }, [[0, 1000], [1000, 1000]], 15],
    ["a quiet spell refills no more than the burst", { perSecond: 5, burst: 10 }, [[0, 10], [60_000, 1000]], 20],
  ] as const)("%s", async (_name, budget, waves, expectedReviews) => {
    const apiserver = new CountingReviewer();
    let ms = 0;
    const reviewer = budgetedTokenReviewer({ reviewer: apiserver, ...budget, now: () => new Date(ms) });
    let unavailable = 0;
    for (const [atMs, count] of waves) {
      ms = atMs;
      unavailable += (await send(reviewer, count)).unavailable;
    }
    expect(apiserver.calls).toBe(expectedReviews);
    expect(unavailable).toBe(waves.reduce((sum, [, count]) => sum + count, 0) - expectedReviews);
  });

  it("says in its refusal how long to wait, and never names the token", async () => {
    const reviewer = budgetedTokenReviewer({ reviewer: new CountingReviewer(), perSecond: 0.5, burst: 1, now: () => new Date(0) });
    await reviewer.review("first", ["a"]);
    await expect(reviewer.review("secret-token-value", ["a"])).rejects.toThrow(/budget of 0.5 TokenReviews a second is spent; retry in 2 s/);
    await expect(reviewer.review("secret-token-value", ["a"])).rejects.not.toThrow(/secret-token-value/);
  });
});
