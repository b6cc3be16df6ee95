// Verifies a DPoP proof sent to an API (RFC 9449 section 7): shared header and claim rules, jose for the signature,
// the key thumbprint against cnf.jkt, and the replay cache last.
import { createHash } from "node:crypto";
import { compactVerify, importJWK } from "jose";
import {
  checkProofClaims,
  checkProofHeader,
  decodeProof,
  DpopProofError,
  jwkThumbprint,
  type DpopAlgorithm,
  type DpopProofProblem,
} from "../api/dpop.ts";
import { VerifyError, type VerifyErrorCode } from "./errors.ts";
import type { NonceSource } from "./nonce.ts";
import type { ReplayCache } from "../api/dpop-replay-cache.ts";

export interface ProofRules {
  readonly algorithms: readonly DpopAlgorithm[];
  readonly maxAgeSeconds: number;
  readonly leewaySeconds: number;
  readonly replay: ReplayCache;
  /** When set, proofs must carry one of its nonces. */
  readonly nonces?: NonceSource;
}

export interface ProofInput {
  readonly proof: string;
  readonly method: string;
  readonly url: string;
  readonly accessToken: string;
  /** The token's cnf.jkt. */
  readonly jkt: string;
  readonly nowSeconds: number;
}

const CODE_OF: Readonly<Record<DpopProofProblem, VerifyErrorCode>> = {
  Malformed: "ProofInvalid",
  TypeInvalid: "ProofInvalid",
  AlgorithmNotAllowed: "ProofInvalid",
  KeyInvalid: "ProofInvalid",
  MethodMismatch: "ProofTargetMismatch",
  UrlMismatch: "ProofTargetMismatch",
  Stale: "ProofStale",
  NonceRequired: "ProofNonceRequired",
  AccessTokenHashMismatch: "ProofInvalid",
};

function toVerifyError(error: DpopProofError): VerifyError {
  return new VerifyError(CODE_OF[error.problem], error.message);
}

/** Throws VerifyError unless `input.proof` is a fresh, correctly signed proof by the token's key for this request. */
export async function verifyProof(input: ProofInput, rules: ProofRules): Promise<void> {
  let jti: string;
  let iat: number;
  try {
    const { header, payload } = decodeProof(input.proof);
    const { alg, jwk } = checkProofHeader(header, rules.algorithms);
    // The key check comes before the signature: a proof by another key is refused without a public-key operation.
    if (jwkThumbprint(jwk) !== input.jkt) {
      throw new VerifyError("ProofKeyMismatch", "the DPoP proof is signed by a key other than the one the token is bound to");
    }
    ({ jti, iat } = checkProofClaims(payload, {
      method: input.method,
      url: input.url,
      nowSeconds: input.nowSeconds,
      maxAgeSeconds: rules.maxAgeSeconds,
      leewaySeconds: rules.leewaySeconds,
      accessToken: input.accessToken,
      ...(rules.nonces === undefined ? {} : { nonce: rules.nonces.accepts }),
    }));
    try {
      await compactVerify(input.proof, await importJWK(jwk, alg), { algorithms: [alg] });
    } catch {
      throw new VerifyError("ProofInvalid", "the DPoP proof's signature does not verify");
    }
  } catch (error) {
    if (error instanceof DpopProofError) throw toVerifyError(error);
    throw error;
  }
  // Recorded only once everything else passed: a refused proof never occupies the cache.
  const key = createHash("sha256").update(`${input.jkt}\n${jti}`).digest("base64url");
  const until = iat + rules.maxAgeSeconds + rules.leewaySeconds;
  const seen = rules.replay.check(key, iat, until, input.nowSeconds);
  if (seen === "replayed") throw new VerifyError("ProofReplayed", "this DPoP proof was already used; sign a new proof for each request");
  if (seen === "below-floor") throw new VerifyError("ProofStale", "the DPoP proof is older than this server can check for replay; sign a new one");
}
