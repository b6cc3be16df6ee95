// The DPoP proof of a token request (RFC 9449 sections 4.3 and 5): the shared rules from api/dpop.ts, the signature
// with node:crypto, and a bounded replay cache. Gives the thumbprint the minted token is bound to.
import { ReplayCache } from "../../../../api/dpop-replay-cache.ts";
import { checkProofClaims, checkProofHeader, decodeProof, DpopProofError, jwkThumbprint } from "../../../../api/dpop.ts";
import { DPOP_SIGNING_ALGORITHMS, PATH_TOKEN } from "../../../../api/constants.ts";
import { IssuerError } from "../errors.ts";
import { importPublicJwk, verifySignature } from "../keys/jws.ts";

/** How old a proof may be; the sidecar signs one per exchange, just before sending it. */
export const PROOF_MAX_AGE_SECONDS = 60;
/** Clock skew tolerated ahead of the issuer's clock. */
export const PROOF_LEEWAY_SECONDS = 5;
/**
 * Proofs remembered for replay detection. Only proofs of pods whose subject token verified and whose rate limit
 * allowed the exchange get here, so the cache fills at most at the sum of the pods' exchange rates.
 */
export const PROOF_REPLAY_CAPACITY = 50_000;

export interface TokenRequestProofs {
  /** Checks everything but replay; returns the key thumbprint and what the replay check needs. Throws IssuerError. */
  check(header: string | readonly string[] | undefined, nowSeconds: number): CheckedProof | undefined;
  /** Records the proof; throws IssuerError("DpopProofReplayed") if it was used before. */
  consume(proof: CheckedProof, nowSeconds: number): void;
}

export interface CheckedProof {
  readonly jkt: string;
  readonly replayKey: string;
  readonly iat: number;
}

function invalid(message: string): IssuerError {
  return new IssuerError("DpopProofInvalid", message);
}

/** One per issuer: the replay cache is its state. `issuer` is the public URL the sidecar posts to. */
export function tokenRequestProofs(issuer: string): TokenRequestProofs {
  const tokenEndpoint = `${issuer.replace(/\/$/, "")}${PATH_TOKEN}`;
  const replay = new ReplayCache({ capacity: PROOF_REPLAY_CAPACITY });
  return {
    check(header, nowSeconds) {
      if (header === undefined) return undefined;
      if (typeof header !== "string") {
        if (header.length !== 1) throw invalid(`send one DPoP header, not ${header.length}`);
      }
      const proof = typeof header === "string" ? header : (header[0] ?? "");
      try {
        const decoded = decodeProof(proof);
        const { alg, jwk } = checkProofHeader(decoded.header, DPOP_SIGNING_ALGORITHMS);
        const { jti, iat } = checkProofClaims(decoded.payload, {
          method: "POST",
          url: tokenEndpoint,
          nowSeconds,
          maxAgeSeconds: PROOF_MAX_AGE_SECONDS,
          leewaySeconds: PROOF_LEEWAY_SECONDS,
        });
        const key = importPublicJwk(jwk);
        if (key === undefined || !verifySignature(alg, key, Buffer.from(decoded.signingInput, "ascii"), decoded.signature)) {
          throw invalid("the DPoP proof's signature does not verify with the key in its header");
        }
        const jkt = jwkThumbprint(jwk);
        return { jkt, replayKey: `${jkt}.${jti}`, iat };
      } catch (error) {
        if (error instanceof DpopProofError) throw invalid(error.message);
        throw error;
      }
    },
    consume(proof, nowSeconds) {
      const seen = replay.check(proof.replayKey, proof.iat, proof.iat + PROOF_MAX_AGE_SECONDS + PROOF_LEEWAY_SECONDS, nowSeconds);
      if (seen === "replayed") throw new IssuerError("DpopProofReplayed", "this DPoP proof was already used; sign a new proof for each token request");
      if (seen === "below-floor") throw invalid("the DPoP proof is older than the issuer can check for replay; sign a new one");
    },
  };
}
