// RFC 9068 / RFC 8725 verification of a Tessera access token with jose: typ, algorithm allowlist, key, iss, aud, times.
import { errors, jwtVerify, type JWTVerifyGetKey } from "jose";
import { ACCESS_TOKEN_TYP } from "../api/constants.ts";
import { tesseraClaims, type TesseraClaims } from "./claims.ts";
import { VerifyError, type VerifyErrorCode } from "./errors.ts";

export interface AccessTokenRules {
  readonly issuer: string;
  readonly audience: string;
  readonly algorithms: readonly string[];
  readonly leewaySeconds: number;
  readonly now: () => Date;
}

/** Longest token looked at; Tessera tokens with policy claims are a few KiB. */
export const MAX_TOKEN_CHARS = 16 * 1024;

/** RFC 9068 section 2.2: the claims every access token carries. */
const REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"];

const CLAIM_CODES: Readonly<Record<string, VerifyErrorCode>> = {
  iss: "TokenIssuerMismatch",
  aud: "TokenAudienceMismatch",
  nbf: "TokenNotYetValid",
  iat: "TokenNotYetValid",
  typ: "TokenTypeInvalid",
};

/** jose's failures as the kit's codes; a key set that cannot be fetched is the issuer's outage, not the token's fault. */
function mapJoseError(error: unknown, rules: AccessTokenRules): VerifyError {
  if (error instanceof VerifyError) return error;
  if (error instanceof errors.JWTExpired) return new VerifyError("TokenExpired", "the access token has expired; get a fresh one", { cause: error });
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === "aud" && error.reason === "check_failed") {
    return new VerifyError("TokenAudienceMismatch", `the access token is for another audience; this API accepts tokens for ${rules.audience}`, { cause: error });
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const code = CLAIM_CODES[error.claim] ?? "TokenClaimsInvalid";
    const what = error.reason === "missing" ? `has no ${error.claim} claim` : `has an unacceptable ${error.claim} claim`;
    return new VerifyError(code, `the access token ${what}`, { cause: error });
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return new VerifyError("TokenAlgorithmNotAllowed", "the access token's algorithm is not allowed", { cause: error });
  if (error instanceof errors.JWSSignatureVerificationFailed) return new VerifyError("TokenSignatureInvalid", "the access token's signature does not verify", { cause: error });
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new VerifyError("TokenKeyUnknown", "the access token is signed by a key the issuer does not publish", { cause: error });
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return new VerifyError("IssuerUnavailable", "the issuer's key set could not be read; retry shortly", { cause: error });
  }
  if (error instanceof errors.JOSEError) return new VerifyError("TokenMalformed", "the access token is not a well-formed signed JWT", { cause: error });
  // fetch failures (connection refused, TLS) surface as plain errors from the key resolver.
  return new VerifyError("IssuerUnavailable", "the issuer's key set could not be read; retry shortly", { cause: error });
}

/** Verifies signature and rules; returns the typed claims. Throws VerifyError. */
export async function verifyAccessToken(token: string, keys: JWTVerifyGetKey, rules: AccessTokenRules): Promise<TesseraClaims> {
  if (token.length > MAX_TOKEN_CHARS) throw new VerifyError("TokenMalformed", `the access token is longer than ${MAX_TOKEN_CHARS} characters`);
  let payload: Record<string, unknown>;
  try {
    const verified = await jwtVerify(token, keys, {
      issuer: rules.issuer,
      audience: rules.audience,
      algorithms: [...rules.algorithms],
      // RFC 9068 section 4 / RFC 8725 section 3.11: explicit typing keeps ID tokens and service-account tokens out.
      typ: ACCESS_TOKEN_TYP,
      clockTolerance: rules.leewaySeconds,
      requiredClaims: REQUIRED_CLAIMS,
      currentDate: rules.now(),
    });
    payload = verified.payload;
  } catch (error) {
    throw mapJoseError(error, rules);
  }
  // jose checks iat only for type; a token minted in the future is a clock or forgery problem either way.
  const iat = payload["iat"];
  if (typeof iat === "number" && iat > rules.now().getTime() / 1000 + rules.leewaySeconds) {
    throw new VerifyError("TokenNotYetValid", "the access token's iat is in the future");
  }
  return tesseraClaims(payload);
}
