// Verifies a Tessera access token (RFC 9068) with Tessera's own keys: for actor tokens and for introspection.
import type { KeyObject } from "node:crypto";
import { CLAIM_NAMESPACE, CLAIM_SERVICE_ACCOUNT } from "../../../../api/constants.ts";
import type { Actor } from "../../policy/types.ts";
import { IssuerError } from "../errors.ts";
import { decodeCompactJws, verifySignature } from "./jws.ts";
import type { SigningAlgorithm } from "./keys.ts";
import { isAccessTokenTyp } from "../subject/service-account-token.ts";

/** Finds a published Tessera verification key by kid. */
export interface TesseraKeyLookup {
  verificationKey(kid: string): { readonly alg: SigningAlgorithm; readonly publicKey: KeyObject } | undefined;
}

export interface AccessTokenRules {
  /** Tessera's issuer URL: `iss` must equal it. */
  readonly issuer: string;
  /** `aud` must contain this. */
  readonly audience: string;
  readonly leewaySeconds: number;
}

/** A verified Tessera access token. */
export interface VerifiedAccessToken {
  readonly claims: Readonly<Record<string, unknown>>;
  readonly sub: string;
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
}

/** Verifies signature, typ, iss, aud and lifetime; the caller decides what the claims mean. */
export function verifyAccessToken(
  token: string,
  keys: TesseraKeyLookup,
  rules: AccessTokenRules,
  nowSeconds: number,
): VerifiedAccessToken {
  const jws = decodeCompactJws(token);
  // Explicit typing (RFC 8725 section 3.11): only at+jwt is a Tessera access token.
  if (!isAccessTokenTyp(jws.header["typ"])) {
    throw new IssuerError("TokenKindMismatch", "the token is not a Tessera access token (typ is not at+jwt)");
  }
  const kid = jws.header["kid"];
  const key = typeof kid === "string" ? keys.verificationKey(kid) : undefined;
  if (key === undefined) throw new IssuerError("TokenKeyUnknown", "the token was not signed by a key Tessera publishes");
  // The algorithm is the one the key was made for, never the header's choice.
  if (jws.header["alg"] !== key.alg) {
    throw new IssuerError("TokenAlgorithmNotAllowed", `the token's algorithm does not match its key (${key.alg})`);
  }
  if (!verifySignature(key.alg, key.publicKey, jws.signingInput, jws.signature)) {
    throw new IssuerError("TokenSignatureInvalid", "the token's signature does not verify");
  }
  const c = jws.payload;
  if (c["iss"] !== rules.issuer) throw new IssuerError("TokenIssuerMismatch", "the token was not issued by this Tessera issuer");
  const aud = c["aud"];
  const audiences = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
  if (!audiences.includes(rules.audience)) {
    throw new IssuerError("TokenAudienceMismatch", `the token's audience does not include ${rules.audience}`);
  }
  const exp = c["exp"];
  const iat = c["iat"];
  const sub = c["sub"];
  const jti = c["jti"];
  if (typeof exp !== "number" || typeof iat !== "number" || typeof sub !== "string" || typeof jti !== "string") {
    throw new IssuerError("TokenClaimsMissing", "the token lacks exp, iat, sub or jti");
  }
  if (nowSeconds >= exp + rules.leewaySeconds) throw new IssuerError("TokenExpired", "the token has expired");
  const nbf = c["nbf"];
  if (typeof nbf === "number" && nbf > nowSeconds + rules.leewaySeconds) {
    throw new IssuerError("TokenNotYetValid", "the token is not valid yet");
  }
  return { claims: c, sub, jti, iat, exp };
}

const MAX_ACT_DEPTH = 16;

/** Flattens a nested `act` claim into actors, current (outermost) first. */
export function actorsFromActClaim(act: unknown): Actor[] {
  const actors: Actor[] = [];
  let cursor = act;
  while (cursor !== undefined) {
    if (typeof cursor !== "object" || cursor === null || actors.length >= MAX_ACT_DEPTH) {
      throw new IssuerError("ActorInvalid", "the actor token's act claim is malformed or too deep");
    }
    const entry = cursor as Record<string, unknown>;
    const sub = entry["sub"];
    const iss = entry["iss"];
    if (typeof sub !== "string" || typeof iss !== "string") {
      throw new IssuerError("ActorInvalid", "an actor in the actor token's act claim lacks sub or iss");
    }
    actors.push({ sub, iss, ...serviceAccountOf(entry) });
    cursor = entry["act"];
  }
  return actors;
}

function serviceAccountOf(entry: Readonly<Record<string, unknown>>): Pick<Actor, "serviceAccount"> {
  const namespace = entry[CLAIM_NAMESPACE];
  const name = entry[CLAIM_SERVICE_ACCOUNT];
  return typeof namespace === "string" && typeof name === "string" ? { serviceAccount: { namespace, name } } : {};
}

/** The `act` claim for a chain, current actor outermost (RFC 8693 section 4.1). */
export function actClaimFor(actors: readonly Actor[]): Record<string, unknown> | undefined {
  let act: Record<string, unknown> | undefined;
  for (let i = actors.length - 1; i >= 0; i--) {
    const actor = actors[i];
    if (actor === undefined) continue;
    act = {
      sub: actor.sub,
      iss: actor.iss,
      ...(actor.serviceAccount === undefined
        ? {}
        : { [CLAIM_NAMESPACE]: actor.serviceAccount.namespace, [CLAIM_SERVICE_ACCOUNT]: actor.serviceAccount.name }),
      ...(act === undefined ? {} : { act }),
    };
  }
  return act;
}
