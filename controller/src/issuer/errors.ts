// Issuer errors: one base class with a closed union of codes, each mapped to an OAuth error at the HTTP boundary.
import type { OAuthErrorCode } from "../../../api/exchange.ts";

/** Every way the issuer refuses or fails a request. */
export type IssuerErrorCode =
  // The request itself (RFC 8693 section 2.1).
  | "MalformedRequest"
  | "UnsupportedGrantType"
  | "UnsupportedTokenType"
  | "InvalidTarget"
  | "InvalidScope"
  // The subject or actor token (RFC 8725 checks).
  | "TokenMalformed"
  | "TokenAlgorithmNotAllowed"
  | "TokenKeyUnknown"
  | "TokenSignatureInvalid"
  | "TokenIssuerMismatch"
  | "TokenAudienceMismatch"
  | "TokenExpired"
  | "TokenNotYetValid"
  | "TokenTooOld"
  | "TokenClaimsMissing"
  | "TokenKindMismatch"
  | "TokenReviewRejected"
  // The pod the token is bound to.
  | "PodNotFound"
  | "PodUidMismatch"
  | "PodServiceAccountMismatch"
  | "PodTerminating"
  | "NamespaceNotFound"
  // Delegation.
  | "ActorInvalid"
  /** An actor_token came with a subject token that is not a delegation grant (the old raw-token flow). */
  | "ActorRequiresGrant"
  /** A delegation grant came without an actor credential. */
  | "ActorRequired"
  /** The proven actor is not the one the grant's may_act names. */
  | "ActorNotPermitted"
  /** The subject token is a Tessera token that is no usable delegation grant (not a grant, revoked, pod gone). */
  | "GrantInvalid"
  // The issuer's own dependencies.
  | "KeysUnavailable"
  | "KeyStoreConflict"
  | "KeyStoreInvalid"
  | "UpstreamUnavailable"
  // The pod asked more often than its share (PodRateLimiter).
  | "RateLimited"
  // The DPoP proof of the request (RFC 9449 section 5): invalid, used before, or missing where the policy requires one.
  | "DpopProofInvalid"
  | "DpopProofReplayed"
  | "DpopProofRequired";

/** OAuth error code each issuer error is reported as. */
const OAUTH_CODE: Readonly<Record<IssuerErrorCode, OAuthErrorCode>> = {
  MalformedRequest: "invalid_request",
  UnsupportedGrantType: "unsupported_grant_type",
  UnsupportedTokenType: "invalid_request",
  InvalidTarget: "invalid_target",
  InvalidScope: "invalid_scope",
  // A bad subject token is reported as invalid_grant (RFC 6749 section 5.2): the grant the client presented is
  // unusable, so the client knows to fetch a fresh token rather than to fix its request.
  TokenMalformed: "invalid_grant",
  TokenAlgorithmNotAllowed: "invalid_grant",
  TokenKeyUnknown: "invalid_grant",
  TokenSignatureInvalid: "invalid_grant",
  TokenIssuerMismatch: "invalid_grant",
  TokenAudienceMismatch: "invalid_grant",
  TokenExpired: "invalid_grant",
  TokenNotYetValid: "invalid_grant",
  TokenTooOld: "invalid_grant",
  TokenClaimsMissing: "invalid_grant",
  TokenKindMismatch: "invalid_grant",
  TokenReviewRejected: "invalid_grant",
  PodNotFound: "invalid_grant",
  PodUidMismatch: "invalid_grant",
  PodServiceAccountMismatch: "invalid_grant",
  PodTerminating: "invalid_grant",
  NamespaceNotFound: "invalid_grant",
  ActorInvalid: "invalid_grant",
  ActorRequiresGrant: "invalid_request",
  ActorRequired: "invalid_request",
  ActorNotPermitted: "invalid_grant",
  GrantInvalid: "invalid_grant",
  KeysUnavailable: "temporarily_unavailable",
  KeyStoreConflict: "server_error",
  KeyStoreInvalid: "server_error",
  UpstreamUnavailable: "temporarily_unavailable",
  // RFC 6749 has no code for "too many requests". temporarily_unavailable says what the client should do (retry
  // later, the request itself was fine), and the sidecar already retries it with backoff; the HTTP status is 429
  // with Retry-After (RFC 6585) so generic clients and proxies read it the same way. invalid_request or
  // access_denied would tell the client its request can never succeed, which is false.
  RateLimited: "temporarily_unavailable",
  DpopProofInvalid: "invalid_dpop_proof",
  DpopProofReplayed: "invalid_dpop_proof",
  // RFC 9449 has no separate code for a missing proof; invalid_dpop_proof with a description naming the policy tells
  // the client exactly what to add.
  DpopProofRequired: "invalid_dpop_proof",
};

export class IssuerError extends Error {
  readonly code: IssuerErrorCode;
  /** Seconds the client should wait before retrying (RateLimited); sent as Retry-After. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: IssuerErrorCode, message: string, options?: ErrorOptions & { readonly retryAfterSeconds?: number }) {
    super(message, options);
    this.name = "IssuerError";
    this.code = code;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  /** HTTP status of this error's response: 429 when rate limited, otherwise the status of its OAuth code. */
  get httpStatus(): number {
    return this.code === "RateLimited" ? 429 : httpStatusOf(this.oauthError);
  }

  /** The OAuth error code this error is reported as. */
  get oauthError(): OAuthErrorCode {
    return OAUTH_CODE[this.code];
  }
}

/** True when `error` is an IssuerError with the given code (or any code when none is given). */
export function isIssuerError(error: unknown, code?: IssuerErrorCode): error is IssuerError {
  return error instanceof IssuerError && (code === undefined || error.code === code);
}

/** HTTP status of an OAuth error response (RFC 6749 section 5.2 uses 400 unless the client failed to authenticate). */
export function httpStatusOf(code: OAuthErrorCode): number {
  switch (code) {
    case "invalid_client":
      return 401;
    case "access_denied":
      return 403;
    case "server_error":
      return 500;
    case "temporarily_unavailable":
      return 503;
    default:
      return 400;
  }
}
