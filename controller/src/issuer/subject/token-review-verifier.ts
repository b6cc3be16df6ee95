// The TokenReview mode: local checks first, then the apiserver's review with a deadline, remembered per token.
import { Observable, type AuthenticationV1Api, type RequestContext, type ResponseContext } from "@kubernetes/client-node";
import { IssuerError } from "../errors.ts";
import { decodeCompactJws } from "../keys/jws.ts";
import {
  checkServiceAccountClaims,
  checkServiceAccountHeader,
  type ServiceAccountIdentity,
  type ServiceAccountTokenRules,
} from "./service-account-token.ts";
import type { SubjectVerifier } from "./subject-verifier.ts";
import { ExpiringCache } from "./expiring-cache.ts";
import { checkPodBinding, type PodLookup } from "./pod-lookup.ts";
import { VerifiedSignatures } from "./verified-signatures.ts";
import { withDeadline } from "./deadline.ts";

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
  /** `signal` aborts a review nobody waits for any more, so an apiserver that does not answer holds no connections. */
  review(token: string, audiences: readonly string[], signal?: AbortSignal): Promise<TokenReviewResult>;
}

const EXTRA_POD_UID = "authentication.kubernetes.io/pod-uid";

/** A TokenReviewer over client-node. */
export function clientNodeTokenReviewer(api: AuthenticationV1Api): TokenReviewer {
  return {
    async review(token, audiences, signal) {
      let status;
      // Appended to the client's own middleware (authentication stays), only to hand the request its abort signal.
      const options =
        signal === undefined
          ? undefined
          : {
              middleware: [
                {
                  pre: (context: RequestContext) => {
                    context.setSignal(signal);
                    return new Observable(Promise.resolve(context));
                  },
                  post: (context: ResponseContext) => new Observable(Promise.resolve(context)),
                },
              ],
              middlewareMergeStrategy: "append" as const,
            };
      try {
        const review = await api.createTokenReview(
          {
            // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain data
            body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token, audiences: [...audiences] } },
          },
          options,
        );
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

/**
 * How long an exchange waits for the apiserver's TokenReview answer. A stopped or overloaded apiserver accepts the
 * connection and never answers; the sidecar's own request would otherwise hang until it gave up. 2.5 s is well
 * above a healthy TokenReview (milliseconds) and well below the sidecar's request timeout, so the pod hears a clear
 * temporarily_unavailable and retries while its held token is still valid.
 */
export const TOKEN_REVIEW_DEADLINE_MS = 2_500;

/**
 * How long a token the apiserver refused is refused again without asking: a replayed bad token costs one
 * TokenReview per 10 s, and a token refused in error (the apiserver lagging a brand-new pod) recovers quickly.
 */
export const TOKEN_REVIEW_REFUSED_MS = 10_000;

/**
 * Reviews remembered at most, accepted and refused each: about one projected token per pod, so this covers clusters
 * of about 16,000 token-holding pods at some 100 bytes an entry.
 */
export const TOKEN_REVIEW_MAX_REMEMBERED = 16_384;

/**
 * TokenReviews the issuer has outstanding at most. Each costs the apiserver work and the issuer a connection for up
 * to the deadline; past the cap, a token not yet reviewed answers temporarily_unavailable at once instead of piling
 * more work on an apiserver that is already slow, or letting a flood of distinct forged tokens naming real pods
 * turn into as many reviews. A healthy apiserver answers in milliseconds, so 64 at once is some thousands a second.
 */
export const TOKEN_REVIEW_MAX_IN_FLIGHT = 64;

export interface TokenReviewSubjectVerifierOptions {
  readonly rules: ServiceAccountTokenRules;
  readonly reviewer: TokenReviewer;
  /** The controller's pod cache: the pod binding is checked here before the apiserver is asked. */
  readonly pods: PodLookup;
  readonly now: () => Date;
  /** Defaults to TOKEN_REVIEW_DEADLINE_MS. */
  readonly deadlineMs?: number;
  /** Defaults to TOKEN_REVIEW_REFUSED_MS. */
  readonly refusedMs?: number;
  /** Defaults to TOKEN_REVIEW_MAX_REMEMBERED. */
  readonly maxRemembered?: number;
  /** Defaults to TOKEN_REVIEW_MAX_IN_FLIGHT. */
  readonly maxInFlight?: number;
}

/**
 * Verification through TokenReview, asked only for what the apiserver adds. Locally, before any network call: the
 * token's kind, every claim rule, and the pod binding against the controller's cache, so a malformed token, a
 * token for a pod that does not exist (or was replaced, or is terminating) costs the apiserver nothing. Then the
 * apiserver checks the signature and that the service account and pod still exist. Its answer is remembered by a
 * SHA-256 digest of the token (never the token): an accepted token until its exp, a refused one for a few seconds.
 * A remembered acceptance is only reused after the pod binding passed again, so it dies with its pod; and it keeps
 * a known pod's token working while the apiserver is unreachable. A review that does not answer within the
 * deadline is abandoned with UpstreamUnavailable (temporarily_unavailable), never a hang.
 */
export class TokenReviewSubjectVerifier implements SubjectVerifier {
  readonly #options: TokenReviewSubjectVerifierOptions;
  readonly #deadlineMs: number;
  readonly #refusedMs: number;
  /** Digest -> the pod uid the accepted token is bound to. */
  readonly #accepted: ExpiringCache<string>;
  /** Digest -> the apiserver's reason for refusing it. */
  readonly #refused: ExpiringCache<string>;
  /**
   * Pod uid -> digests of its accepted tokens, so a deleted pod's entries leave at once. Pruned of expired or
   * evicted digests whenever the pod gets another, so it holds about one digest per existing pod.
   */
  readonly #acceptedByPod = new Map<string, Set<string>>();
  /** Digest -> the review under way; bounded by the deadline, each entry leaves when its review settles. */
  readonly #inflight = new Map<string, Promise<TokenReviewResult>>();

  constructor(options: TokenReviewSubjectVerifierOptions) {
    this.#options = options;
    this.#deadlineMs = options.deadlineMs ?? TOKEN_REVIEW_DEADLINE_MS;
    this.#refusedMs = options.refusedMs ?? TOKEN_REVIEW_REFUSED_MS;
    this.#accepted = new ExpiringCache(options.maxRemembered ?? TOKEN_REVIEW_MAX_REMEMBERED);
    this.#refused = new ExpiringCache(options.maxRemembered ?? TOKEN_REVIEW_MAX_REMEMBERED);
  }

  readonly ready = true;

  async verify(token: string): Promise<ServiceAccountIdentity> {
    const jws = decodeCompactJws(token);
    // Never send a Tessera token to the apiserver: the kinds are told apart before any network call.
    checkServiceAccountHeader(jws.header);
    const nowMs = this.#options.now().getTime();
    // Claims are checked first too, so an obviously wrong token costs no apiserver call.
    const identity = checkServiceAccountClaims(jws.payload, this.#options.rules, Math.floor(nowMs / 1000));
    const digest = VerifiedSignatures.digest(token);
    // Looked up outside the try: a lookup that fails (pods read from the apiserver) says nothing about the pod.
    const pod = await this.#options.pods.get(identity.namespace, identity.pod.name);
    try {
      checkPodBinding(identity, pod);
    } catch (error) {
      // The pod is gone, replaced or ending: whatever the apiserver said about its token no longer counts.
      this.#accepted.delete(digest);
      throw error;
    }
    if (this.#accepted.get(digest, nowMs) === identity.pod.uid) return identity;
    const refusal = this.#refused.get(digest, nowMs);
    if (refusal !== undefined) throw new IssuerError("TokenReviewRejected", refusal);

    const result = await this.#review(digest, token);
    const refused = this.#refusal(result, identity);
    if (refused !== undefined) {
      this.#refused.set(digest, refused, nowMs + this.#refusedMs);
      throw new IssuerError("TokenReviewRejected", refused);
    }
    this.#accepted.set(digest, identity.pod.uid, identity.expiresAt * 1000);
    this.#remember(identity.pod.uid, digest, nowMs);
    return identity;
  }

  forgetPod(podUid: string): void {
    for (const digest of this.#acceptedByPod.get(podUid) ?? []) this.#accepted.delete(digest);
    this.#acceptedByPod.delete(podUid);
  }

  #remember(podUid: string, digest: string, nowMs: number): void {
    const digests = this.#acceptedByPod.get(podUid) ?? new Set<string>();
    for (const held of digests) if (!this.#accepted.has(held, nowMs)) digests.delete(held);
    digests.add(digest);
    this.#acceptedByPod.set(podUid, digests);
  }

  /**
   * One TokenReview per token at a time: a sidecar starting up sends its exchange and its watch with the same
   * token at once, and both wait for the same answer (and the same deadline).
   */
  #review(digest: string, token: string): Promise<TokenReviewResult> {
    const pending = this.#inflight.get(digest);
    if (pending !== undefined) return pending;
    const maxInFlight = this.#options.maxInFlight ?? TOKEN_REVIEW_MAX_IN_FLIGHT;
    if (this.#inflight.size >= maxInFlight) {
      return Promise.reject(
        new IssuerError("UpstreamUnavailable", `${maxInFlight} TokenReviews are already waiting for the apiserver; retry shortly`),
      );
    }
    const deadlineMs = this.#deadlineMs;
    const review = withDeadline(
      (signal) => this.#options.reviewer.review(token, [this.#options.rules.audience], signal),
      deadlineMs,
      () =>
        new IssuerError(
          "UpstreamUnavailable",
          `the apiserver did not answer the TokenReview within ${deadlineMs} ms; retry shortly (a token Tessera has already reviewed keeps working meanwhile)`,
        ),
    ).finally(() => {
      this.#inflight.delete(digest);
    });
    this.#inflight.set(digest, review);
    return review;
  }

  #refusal(result: TokenReviewResult, identity: ServiceAccountIdentity): string | undefined {
    if (!result.authenticated || !result.audiences.includes(this.#options.rules.audience)) {
      return `the apiserver did not accept the token${result.error === undefined ? "" : `: ${result.error}`}`;
    }
    const podUid = result.extra[EXTRA_POD_UID]?.[0];
    if (result.username !== identity.subject || (podUid !== undefined && podUid !== identity.pod.uid)) {
      return "the apiserver's view of the token does not match its claims";
    }
    return undefined;
  }
}
