// RFC 7662 introspection: strict verification with Tessera's own keys, then live checks of revocation, pod and policy.

import type { IntrospectionResponse } from "../../../../api/exchange.ts";
import type { TesseraKeyLookup } from "../keys/access-token.ts";
import { decodeCompactJws, verifySignature } from "../keys/jws.ts";
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from "../keys/keys.ts";
import type { InactiveReason, IssuerMetrics } from "../metrics.ts";
import type { PodLookup } from "../subject/pod-lookup.ts";
import type { RevocationChecker } from "./revocation.ts";
import { isAccessTokenTyp } from "../subject/service-account-token.ts";
import { createTokenLiveness, type PolicyLookup, type TokenLiveness } from "./token-liveness.ts";

export type { PolicyLookup } from "./token-liveness.ts";

/** The only answer for an inactive token (RFC 7662 section 2.2): nothing about why, nothing about the token. */
export const INACTIVE: IntrospectionResponse = Object.freeze({ active: false });

/** Longest token looked at; anything longer is not one of ours. */
const MAX_TOKEN_CHARS = 16 * 1024;

export interface IntrospectorOptions {
  /** Tessera's issuer URL: `iss` must equal it exactly. */
  readonly issuer: string;
  readonly keys: TesseraKeyLookup;
  readonly revocations: RevocationChecker;
  readonly pods: PodLookup;
  readonly policies: PolicyLookup;
  readonly now: () => Date;
  /** Algorithms accepted; Tessera's signing algorithms by default. */
  readonly algorithms?: readonly SigningAlgorithm[];
  readonly metrics?: IssuerMetrics;
}

type Verified = { readonly ok: true; readonly claims: Readonly<Record<string, unknown>> } | { readonly ok: false; readonly reason: InactiveReason };

function invalid(): Verified {
  return { ok: false, reason: "invalid" };
}

/**
 * Verifies a Tessera access token with no leeway and no tolerance (RFC 8725): compact JWS, typ at+jwt, a kid Tessera
 * publishes, alg in the allowlist and equal to the key's own, signature, exact iss, and exp/iat/jti/sub present.
 */
export function verifyForIntrospection(
  token: string,
  keys: TesseraKeyLookup,
  issuer: string,
  algorithms: readonly SigningAlgorithm[],
  nowSeconds: number,
): Verified {
  if (token.length > MAX_TOKEN_CHARS) return invalid();
  let jws;
  try {
    jws = decodeCompactJws(token);
  } catch {
    return invalid();
  }
  const { header, payload } = jws;
  if (!isAccessTokenTyp(header["typ"])) return invalid();
  const alg = header["alg"];
  const kid = header["kid"];
  if (typeof kid !== "string" || !algorithms.some((allowed) => allowed === alg)) return invalid();
  const key = keys.verificationKey(kid);
  if (key === undefined || key.alg !== alg || !verifySignature(key.alg, key.publicKey, jws.signingInput, jws.signature)) return invalid();
  if (payload["iss"] !== issuer) return invalid();
  const { exp, iat, nbf, jti, sub } = payload;
  if (typeof exp !== "number" || typeof iat !== "number" || typeof jti !== "string" || typeof sub !== "string") return invalid();
  if (nowSeconds >= exp) return { ok: false, reason: "expired" };
  if (typeof nbf === "number" && nbf > nowSeconds) return invalid();
  return { ok: true, claims: payload };
}

/** Answers introspection requests; gathering (I/O) happens here, the decision in introspection-rules.ts. */
export class Introspector {
  readonly #options: IntrospectorOptions;
  readonly #liveness: TokenLiveness;

  constructor(options: IntrospectorOptions) {
    this.#options = options;
    this.#liveness = createTokenLiveness(options);
  }

  /**
   * The RFC 7662 answer for `token`. Failures to reach a dependency (revocation list, pod or policy lookup) throw:
   * "cannot tell" must never be reported as active, and reporting it as inactive would log everyone out on a blip.
   */
  async introspect(token: string): Promise<IntrospectionResponse> {
    const o = this.#options;
    const nowSeconds = Math.floor(o.now().getTime() / 1000);
    const verified = verifyForIntrospection(token, o.keys, o.issuer, o.algorithms ?? SIGNING_ALGORITHMS, nowSeconds);
    if (!verified.ok) return this.#inactive(verified.reason);
    const reason = await this.#liveness.inactiveReason(verified.claims);
    if (reason !== undefined) return this.#inactive(reason);
    o.metrics?.observeIntrospection({ active: true });
    // The claims first, then active, so no claim can pose as the active flag.
    return { ...verified.claims, token_type: "Bearer", active: true };
  }

  #inactive(reason: InactiveReason): IntrospectionResponse {
    this.#options.metrics?.observeIntrospection({ active: false, reason });
    return INACTIVE;
  }
}
