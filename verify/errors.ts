// The kit's one error class: a closed union of codes, each mapped to the HTTP status and RFC 6750 / RFC 9449 error code.

/** Every way the kit refuses a request or fails to decide. */
export type VerifyErrorCode =
  // The request carries no credential at all (RFC 6750 section 3.1: answer with a challenge and no error code).
  | "CredentialsMissing"
  // The request's shape: two Authorization headers, an unknown scheme, two DPoP headers.
  | "RequestMalformed"
  // The access token itself (RFC 9068, RFC 8725).
  | "TokenMalformed"
  | "TokenTypeInvalid"
  | "TokenAlgorithmNotAllowed"
  | "TokenSignatureInvalid"
  | "TokenKeyUnknown"
  | "TokenIssuerMismatch"
  | "TokenAudienceMismatch"
  | "TokenExpired"
  | "TokenNotYetValid"
  | "TokenClaimsInvalid"
  // Introspection (RFC 7662) said the token is no longer active: revoked, pod gone, policy revoked.
  | "TokenInactive"
  // A bound token presented as a bearer token, or an unbound one with the DPoP scheme.
  | "TokenBindingMismatch"
  // The DPoP proof (RFC 9449 section 4.3).
  | "ProofMissing"
  | "ProofInvalid"
  | "ProofKeyMismatch"
  | "ProofTargetMismatch"
  | "ProofStale"
  | "ProofReplayed"
  | "ProofNonceRequired"
  // Authorization: the token is good but does not carry what the route needs.
  | "InsufficientScope"
  | "ClaimsRejected"
  // The kit's own dependencies: discovery, the key set, introspection.
  | "IssuerUnavailable"
  | "IntrospectionUnavailable";

/** RFC 6750 section 3.1 and RFC 9449 sections 7.1 and 12.2 error codes, plus the 503 one. */
export type ChallengeError =
  | "invalid_request"
  | "invalid_token"
  | "insufficient_scope"
  | "invalid_dpop_proof"
  | "use_dpop_nonce"
  | "temporarily_unavailable";

interface Mapping {
  readonly status: 400 | 401 | 403 | 503;
  /** Undefined only for CredentialsMissing: a request without credentials gets a bare challenge. */
  readonly error: ChallengeError | undefined;
}

const MAPPING: Readonly<Record<VerifyErrorCode, Mapping>> = {
  CredentialsMissing: { status: 401, error: undefined },
  RequestMalformed: { status: 400, error: "invalid_request" },
  TokenMalformed: { status: 401, error: "invalid_token" },
  TokenTypeInvalid: { status: 401, error: "invalid_token" },
  TokenAlgorithmNotAllowed: { status: 401, error: "invalid_token" },
  TokenSignatureInvalid: { status: 401, error: "invalid_token" },
  TokenKeyUnknown: { status: 401, error: "invalid_token" },
  TokenIssuerMismatch: { status: 401, error: "invalid_token" },
  TokenAudienceMismatch: { status: 401, error: "invalid_token" },
  TokenExpired: { status: 401, error: "invalid_token" },
  TokenNotYetValid: { status: 401, error: "invalid_token" },
  TokenClaimsInvalid: { status: 401, error: "invalid_token" },
  TokenInactive: { status: 401, error: "invalid_token" },
  TokenBindingMismatch: { status: 401, error: "invalid_token" },
  ProofMissing: { status: 401, error: "invalid_dpop_proof" },
  ProofInvalid: { status: 401, error: "invalid_dpop_proof" },
  ProofKeyMismatch: { status: 401, error: "invalid_dpop_proof" },
  ProofTargetMismatch: { status: 401, error: "invalid_dpop_proof" },
  ProofStale: { status: 401, error: "invalid_dpop_proof" },
  ProofReplayed: { status: 401, error: "invalid_dpop_proof" },
  ProofNonceRequired: { status: 401, error: "use_dpop_nonce" },
  InsufficientScope: { status: 403, error: "insufficient_scope" },
  ClaimsRejected: { status: 403, error: "insufficient_scope" },
  IssuerUnavailable: { status: 503, error: "temporarily_unavailable" },
  IntrospectionUnavailable: { status: 503, error: "temporarily_unavailable" },
};

export class VerifyError extends Error {
  readonly code: VerifyErrorCode;

  constructor(code: VerifyErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "VerifyError";
    this.code = code;
  }

  get status(): Mapping["status"] {
    return MAPPING[this.code].status;
  }

  /** The error code of the challenge and the JSON body; undefined when the request carried no credential. */
  get challengeError(): ChallengeError | undefined {
    return MAPPING[this.code].error;
  }

  /** Whether the refusal concerns DPoP, so the challenge names the DPoP scheme (RFC 9449 section 7.1). */
  get dpopRelated(): boolean {
    return this.code.startsWith("Proof");
  }
}

export function isVerifyError(error: unknown, code?: VerifyErrorCode): error is VerifyError {
  return error instanceof VerifyError && (code === undefined || error.code === code);
}
