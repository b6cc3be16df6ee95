// createVerifier: options checked once, then the request pipeline: credential -> token -> binding -> proof -> live check.
import { DPOP_SIGNING_ALGORITHMS, TOKEN_TYPE_BEARER, TOKEN_TYPE_DPOP } from "../api/constants.ts";
import type { DpopAlgorithm } from "../api/dpop.ts";
import { verifyAccessToken } from "./access-token.ts";
import { credentialOf } from "./authorization.ts";
import type { TesseraClaims } from "./claims.ts";
import { verifyProof } from "./dpop-proof.ts";
import { VerifyError } from "./errors.ts";
import { introspector, type IntrospectionOptions } from "./introspection.ts";
import { issuerKeys } from "./key-set.ts";
import { nonceSource, type NonceSource } from "./nonce.ts";
import { ReplayCache } from "../api/dpop-replay-cache.ts";
import { VerifiedTokens } from "./verified-tokens.ts";

/** Algorithms Tessera signs access tokens with. */
export const ACCESS_TOKEN_ALGORITHMS = ["ES256", "EdDSA"] as const;

export interface DpopOptions {
  /** How old a proof may be (default 60 s); replay protection remembers each proof this long. */
  readonly maxAgeSeconds?: number;
  /** Most proofs remembered for replay detection (default 100 000, some 10 MB). */
  readonly replayCacheSize?: number;
  /** Require server-provided nonces (RFC 9449 section 9): proofs must echo a DPoP-Nonce this verifier handed out. */
  readonly requireNonce?: boolean;
  /** HMAC key of the nonces; give every replica the same one. Random per verifier when absent. */
  readonly nonceSecret?: Uint8Array;
  /** A nonce stays valid for one to two of these (default 60 s). */
  readonly nonceSlotSeconds?: number;
  readonly algorithms?: readonly DpopAlgorithm[];
}

export interface VerifierOptions {
  /** Tessera's issuer URL, exactly as in tokens' iss. */
  readonly issuer: string;
  /** This API's audience; a token for any other is refused. */
  readonly audience: string;
  /** Skip discovery and read the key set here. */
  readonly jwksUri?: string;
  /** Access-token algorithms accepted (default ES256 and EdDSA). */
  readonly algorithms?: readonly (typeof ACCESS_TOKEN_ALGORITHMS)[number][];
  /** Clock skew tolerated on exp, nbf and iat, and on a proof's iat (default 30 s, at most 300). */
  readonly leewaySeconds?: number;
  /** Accept bearer (unbound) tokens too (default true). When false only DPoP-bound tokens pass. */
  readonly allowBearer?: boolean;
  readonly dpop?: DpopOptions;
  /**
   * Tokens remembered after a full verification (default 10 000, 0 turns it off): later requests with the same token
   * skip the signature check until it expires. A key the issuer stops publishing does not end a remembered token
   * early; tokens are short-lived, and introspection is the way to see revocations.
   */
  readonly verifiedTokenCacheSize?: number;
  /** Ask the issuer about every token (cached briefly), to see revocations within seconds. */
  readonly introspection?: IntrospectionOptions;
  /** For discovery, keys and introspection; use httpsFetch({ ca }) for an issuer with a private CA. */
  readonly fetch?: typeof fetch;
  readonly now?: () => Date;
}

/** The request facts the verifier needs, framework-free. */
export interface RequestFacts {
  readonly authorization: string | readonly string[] | undefined;
  readonly dpop: string | readonly string[] | undefined;
  readonly method: string;
  /** The absolute URL the client called, built from the configured origin (never from the Host header). */
  readonly url: string;
}

export interface VerifiedRequest {
  readonly token: TesseraClaims;
  /** DPoP when the token is bound and the proof checked; Bearer otherwise. */
  readonly binding: typeof TOKEN_TYPE_BEARER | typeof TOKEN_TYPE_DPOP;
}

export interface Verifier {
  readonly issuer: string;
  readonly audience: string;
  readonly dpopAlgorithms: readonly DpopAlgorithm[];
  /** Whether unbound tokens pass (VerifierOptions.allowBearer). */
  readonly allowBearer: boolean;
  /** Verifies a token alone: signature, RFC 9068 rules, and introspection when configured. Ignores binding. */
  verifyToken(token: string): Promise<TesseraClaims>;
  /** Verifies the credential of a request, DPoP binding included. Throws VerifyError. */
  verifyRequest(request: RequestFacts): Promise<VerifiedRequest>;
  /** The DPoP nonce to hand out, when nonces are required. */
  currentNonce(): string | undefined;
}

function checkOptions(options: VerifierOptions): void {
  const problems: string[] = [];
  let issuer: URL | undefined;
  try {
    issuer = new URL(options.issuer);
  } catch {
    problems.push("issuer must be an absolute URL");
  }
  if (issuer !== undefined && issuer.protocol !== "https:") problems.push("issuer must be https");
  if (typeof options.audience !== "string" || options.audience === "") problems.push("audience is required");
  const leeway = options.leewaySeconds;
  if (leeway !== undefined && !(leeway >= 0 && leeway <= 300)) problems.push("leewaySeconds must be 0..300");
  const maxAge = options.dpop?.maxAgeSeconds;
  if (maxAge !== undefined && !(maxAge >= 1 && maxAge <= 600)) problems.push("dpop.maxAgeSeconds must be 1..600");
  for (const alg of options.algorithms ?? []) {
    if (!(ACCESS_TOKEN_ALGORITHMS as readonly string[]).includes(alg)) problems.push(`algorithm ${alg} is not one Tessera signs with`);
  }
  for (const alg of options.dpop?.algorithms ?? []) {
    if (!(DPOP_SIGNING_ALGORITHMS as readonly string[]).includes(alg)) problems.push(`DPoP algorithm ${alg} is not supported`);
  }
  if (problems.length > 0) throw new TypeError(`createVerifier: ${problems.join("; ")}`);
}

export function createVerifier(options: VerifierOptions): Verifier {
  checkOptions(options);
  const now = options.now ?? (() => new Date());
  const nowMs = (): number => now().getTime();
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const leewaySeconds = options.leewaySeconds ?? 30;
  const algorithms = options.algorithms ?? ACCESS_TOKEN_ALGORITHMS;
  const allowBearer = options.allowBearer ?? true;
  const dpopAlgorithms = options.dpop?.algorithms ?? DPOP_SIGNING_ALGORITHMS;
  const keys = issuerKeys({
    issuer: options.issuer,
    ...(options.jwksUri === undefined ? {} : { jwksUri: options.jwksUri }),
    fetch: fetchImpl,
    cooldownMs: 30_000,
    maxAgeMs: 10 * 60_000,
    now: nowMs,
  });
  const nonces: NonceSource | undefined =
    options.dpop?.requireNonce === true
      ? nonceSource({ slotSeconds: options.dpop.nonceSlotSeconds ?? 60, now: nowMs, ...(options.dpop.nonceSecret === undefined ? {} : { secret: options.dpop.nonceSecret }) })
      : undefined;
  const proofRules = {
    algorithms: dpopAlgorithms,
    maxAgeSeconds: options.dpop?.maxAgeSeconds ?? 60,
    leewaySeconds: Math.min(leewaySeconds, 5),
    replay: new ReplayCache({ capacity: options.dpop?.replayCacheSize ?? 100_000 }),
    ...(nonces === undefined ? {} : { nonces }),
  };
  const live =
    options.introspection === undefined
      ? undefined
      : introspector(options.introspection, {
          endpoint: async () => {
            const configured = options.introspection?.endpoint;
            if (configured !== undefined) return configured;
            const endpoint = (await keys.metadata()).introspectionEndpoint;
            if (endpoint === undefined) throw new VerifyError("IntrospectionUnavailable", "the issuer advertises no introspection_endpoint");
            return endpoint;
          },
          fetch: fetchImpl,
          now: nowMs,
        });

  const verified = new VerifiedTokens({ capacity: options.verifiedTokenCacheSize ?? 10_000 });

  async function verifyLocally(token: string): Promise<TesseraClaims> {
    const key = VerifiedTokens.keyOf(token);
    const known = verified.get(key, nowMs() / 1000);
    if (known !== undefined) return known;
    const claims = await verifyAccessToken(token, await keys.resolver(), {
      issuer: options.issuer,
      audience: options.audience,
      algorithms,
      leewaySeconds,
      now,
    });
    verified.set(key, claims);
    return claims;
  }

  async function verifyToken(token: string): Promise<TesseraClaims> {
    const claims = await verifyLocally(token);
    await live?.check(token, claims.jti, claims.exp);
    return claims;
  }

  return {
    issuer: options.issuer,
    audience: options.audience,
    dpopAlgorithms,
    allowBearer,
    verifyToken,
    currentNonce: () => nonces?.current(),
    async verifyRequest(request) {
      const credential = credentialOf(request.authorization, request.dpop);
      if (credential === undefined) throw new VerifyError("CredentialsMissing", "send an access token in the Authorization header");
      // Every offline check first; the issuer is asked (introspection) only about a request that passed them all.
      const claims = await verifyLocally(credential.token);
      if (claims.jkt === undefined) {
        // RFC 9449 section 7.2 is about bound tokens; an unbound one presented with the DPoP scheme is refused too, so a
        // client never believes it is protected when it is not.
        if (credential.scheme === TOKEN_TYPE_DPOP) throw new VerifyError("TokenBindingMismatch", "this token is not DPoP-bound; send it with the Bearer scheme");
        if (!allowBearer) throw new VerifyError("TokenBindingMismatch", "this API accepts only DPoP-bound tokens");
        await live?.check(credential.token, claims.jti, claims.exp);
        return { token: claims, binding: TOKEN_TYPE_BEARER };
      }
      // A bound token used as a bearer token is exactly a stolen token's use (RFC 9449 section 7.1).
      if (credential.scheme !== TOKEN_TYPE_DPOP) throw new VerifyError("TokenBindingMismatch", "this token is DPoP-bound; send it with the DPoP scheme and a DPoP proof");
      if (credential.proof === undefined) throw new VerifyError("ProofMissing", "this token is DPoP-bound; send a DPoP proof header for this request");
      await verifyProof(
        {
          proof: credential.proof,
          method: request.method.toUpperCase(),
          url: request.url,
          accessToken: credential.token,
          jkt: claims.jkt,
          nowSeconds: Math.floor(nowMs() / 1000),
        },
        proofRules,
      );
      await live?.check(credential.token, claims.jti, claims.exp);
      return { token: claims, binding: TOKEN_TYPE_DPOP };
    },
  };
}
