// The TokenReview mode: the apiserver checks the projected token's signature and liveness; the same claim rules apply after.
import type { AuthenticationV1Api } from "@kubernetes/client-node";
import { IssuerError } from "../errors.ts";
import { decodeCompactJws } from "../keys/jws.ts";
import {
  checkServiceAccountClaims,
  checkServiceAccountHeader,
  type ServiceAccountIdentity,
  type ServiceAccountTokenRules,
} from "./service-account-token.ts";
import type { SubjectVerifier } from "./subject-verifier.ts";

/** The apiserver's answer to a TokenReview, reduced to what the issuer reads. */
export interface TokenReviewResult {
  readonly authenticated: boolean;
  readonly audiences: readonly string[];
  readonly username?: string;
  readonly uid?: string;
  readonly extra: Readonly<Record<string, readonly string[]>>;
  readonly error?: string;
}

/** Asks the apiserver whether a token is valid for the audiences. */
export interface TokenReviewer {
  review(token: string, audiences: readonly string[]): Promise<TokenReviewResult>;
}

const EXTRA_POD_UID = "authentication.kubernetes.io/pod-uid";

/** A TokenReviewer over client-node. */
export function clientNodeTokenReviewer(api: AuthenticationV1Api): TokenReviewer {
  return {
    async review(token, audiences) {
      let status;
      try {
        const review = await api.createTokenReview({
          // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain data
          body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token, audiences: [...audiences] } },
        });
        status = review.status;
      } catch (error) {
        throw new IssuerError("UpstreamUnavailable", "the apiserver did not answer the TokenReview", { cause: error });
      }
      return {
        authenticated: status?.authenticated === true,
        audiences: status?.audiences ?? [],
        ...(status?.user?.username === undefined ? {} : { username: status.user.username }),
        ...(status?.user?.uid === undefined ? {} : { uid: status.user.uid }),
        extra: status?.user?.extra ?? {},
        ...(status?.error === undefined ? {} : { error: status.error }),
      };
    },
  };
}

export interface TokenReviewSubjectVerifierOptions {
  readonly rules: ServiceAccountTokenRules;
  readonly reviewer: TokenReviewer;
  readonly now: () => Date;
}

/**
 * Verification through TokenReview: one apiserver round trip per exchange, but the apiserver also checks that the
 * bound pod and service account still exist. The claim rules (issuer, audience, lifetime, pod binding) still apply.
 */
export class TokenReviewSubjectVerifier implements SubjectVerifier {
  readonly #options: TokenReviewSubjectVerifierOptions;

  constructor(options: TokenReviewSubjectVerifierOptions) {
    this.#options = options;
  }

  readonly ready = true;

  async verify(token: string): Promise<ServiceAccountIdentity> {
    const jws = decodeCompactJws(token);
    // Never send a Tessera token to the apiserver: the kinds are told apart before any network call.
    checkServiceAccountHeader(jws.header);
    const nowSeconds = Math.floor(this.#options.now().getTime() / 1000);
    // Claims are checked first too, so an obviously wrong token costs no apiserver call.
    const identity = checkServiceAccountClaims(jws.payload, this.#options.rules, nowSeconds);
    const result = await this.#options.reviewer.review(token, [this.#options.rules.audience]);
    if (!result.authenticated || !result.audiences.includes(this.#options.rules.audience)) {
      throw new IssuerError(
        "TokenReviewRejected",
        `the apiserver did not accept the token${result.error === undefined ? "" : `: ${result.error}`}`,
      );
    }
    const podUid = result.extra[EXTRA_POD_UID]?.[0];
    if (result.username !== identity.subject || (podUid !== undefined && podUid !== identity.pod.uid)) {
      throw new IssuerError("TokenReviewRejected", "the apiserver's view of the token does not match its claims");
    }
    return identity;
  }
}
