// One budget of TokenReviews per second for the whole replica, wrapped around the reviewer every caller shares.
import { IssuerError } from "../errors.ts";
import { PodRateLimiter } from "../exchange/pod-rate-limit.ts";
import type { TokenReviewer } from "./token-review-verifier.ts";

export interface TokenReviewBudgetOptions {
  readonly reviewer: TokenReviewer;
  /** Reviews per second the replica may send the apiserver, sustained. */
  readonly perSecond: number;
  /** Reviews it may send at once after a quiet spell (a controller start, a wave of new pods). */
  readonly burst: number;
  readonly now: () => Date;
}

/** The single key of the budget's bucket: the apiserver is one, whoever asks. */
const APISERVER = "apiserver";

/**
 * Caps what the replica asks the apiserver, whatever the callers: every local check and both remembered answers
 * (accepted and refused) come first, so only tokens the issuer has never seen reach this budget, and a flood of
 * distinct forged tokens naming real pods, or garbage bearer tokens at the audit endpoints, costs the apiserver at
 * most `perSecond` reviews. Over the budget a review fails at once with UpstreamUnavailable, which the exchange
 * answers temporarily_unavailable (the sidecar retries with backoff while its held token still works) and the audit
 * endpoints answer 503; it is never queued, so a refusal costs nothing and holds nothing open.
 */
export function budgetedTokenReviewer(options: TokenReviewBudgetOptions): TokenReviewer {
  // The per-pod token bucket with one key: the same arithmetic, tested once.
  const bucket = new PodRateLimiter({ perSecond: options.perSecond, burst: options.burst, maxPods: 1 });
  return {
    review(token, audiences, signal) {
      const decision = bucket.take(APISERVER, options.now().getTime());
      if (!decision.allowed) {
        return Promise.reject(
          new IssuerError(
            "UpstreamUnavailable",
            `the issuer's budget of ${options.perSecond} TokenReviews a second is spent; retry in ${decision.retryAfterSeconds} s`,
          ),
        );
      }
      return options.reviewer.review(token, audiences, signal);
    },
  };
}
