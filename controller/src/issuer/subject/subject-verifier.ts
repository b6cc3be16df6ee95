// Verifies a pod's projected service-account token against the cluster's service-account issuer keys (RFC 8725).
import { IssuerError } from "../errors.ts";
import { decodeCompactJws, verifySignature, type JwsAlgorithm } from "../keys/jws.ts";
import type { RemoteKeySet } from "./remote-key-set.ts";
import { VerifiedSignatures } from "./verified-signatures.ts";
import {
  checkServiceAccountClaims,
  checkServiceAccountHeader,
  type ServiceAccountIdentity,
  type ServiceAccountTokenRules,
} from "./service-account-token.ts";

/** Turns a projected service-account token into the identity it proves, or throws an IssuerError. */
export interface SubjectVerifier {
  verify(token: string): Promise<ServiceAccountIdentity>;
  /** True when the verifier can answer (keys loaded, or nothing to load). */
  readonly ready: boolean;
  /**
   * Drops what the verifier remembers for a deleted pod's tokens (they can never be used again), so memory follows
   * the pods that exist rather than every pod seen within a token's lifetime. Optional: nothing to drop otherwise.
   */
  forgetPod?(podUid: string): void;
}

/** Algorithms Kubernetes signs service-account tokens with; the header's alg is checked against this, never trusted. */
export const SERVICE_ACCOUNT_ALGORITHMS: readonly JwsAlgorithm[] = ["RS256", "ES256"];

export interface JwksSubjectVerifierOptions {
  readonly rules: ServiceAccountTokenRules;
  readonly keys: Pick<RemoteKeySet, "get" | "ready">;
  readonly now: () => Date;
  readonly algorithms?: readonly JwsAlgorithm[];
  /** Signatures already checked (verified-signatures.ts); absent, every signature is checked every time. */
  readonly verified?: VerifiedSignatures;
}

/** Offline verification with the cluster's JWKS: no apiserver round trip per exchange. */
export class JwksSubjectVerifier implements SubjectVerifier {
  readonly #options: JwksSubjectVerifierOptions;
  readonly #algorithms: readonly JwsAlgorithm[];

  constructor(options: JwksSubjectVerifierOptions) {
    this.#options = options;
    this.#algorithms = options.algorithms ?? SERVICE_ACCOUNT_ALGORITHMS;
  }

  get ready(): boolean {
    return this.#options.keys.ready;
  }

  async verify(token: string): Promise<ServiceAccountIdentity> {
    const jws = decodeCompactJws(token);
    checkServiceAccountHeader(jws.header);
    const alg = jws.header["alg"];
    if (typeof alg !== "string" || !(this.#algorithms as readonly string[]).includes(alg)) {
      throw new IssuerError(
        "TokenAlgorithmNotAllowed",
        `the token's algorithm ${JSON.stringify(alg)} is not accepted; accepted: ${this.#algorithms.join(", ")}`,
      );
    }
    const kid = jws.header["kid"];
    if (typeof kid !== "string" || kid === "") {
      throw new IssuerError("TokenKeyUnknown", "the token header names no key (kid)");
    }
    const key = await this.#options.keys.get(kid);
    if (key === undefined) {
      throw new IssuerError("TokenKeyUnknown", "the token was signed by a key the cluster's service-account issuer does not publish");
    }
    const nowSeconds = Math.floor(this.#options.now().getTime() / 1000);
    const verified = this.#options.verified;
    const digest = verified === undefined ? "" : VerifiedSignatures.digest(token);
    if (verified === undefined || !verified.verifiedWith(digest, key, nowSeconds)) {
      if (!verifySignature(alg as JwsAlgorithm, key, jws.signingInput, jws.signature)) {
        throw new IssuerError("TokenSignatureInvalid", "the token's signature does not verify with the cluster's service-account keys");
      }
      verified?.remember(digest, key, jws.payload["exp"]);
    }
    return checkServiceAccountClaims(jws.payload, this.#options.rules, nowSeconds);
  }
}
