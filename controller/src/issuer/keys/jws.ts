// Compact JWS decoding and signature checks with node:crypto, for the algorithms the issuer allows and nothing else.
import { createPublicKey, verify as cryptoVerify, type JsonWebKey, type KeyObject } from "node:crypto";
import { IssuerError } from "../errors.ts";

/** Algorithms Tessera verifies (the cluster's tokens) or signs with (its own). Never `none`, never HS*. */
export type JwsAlgorithm = "RS256" | "ES256" | "EdDSA";

/** A decoded compact JWS whose signature has not been checked yet. */
export interface DecodedJws {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  /** ASCII bytes of `header.payload`: what the signature covers. */
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

/**
 * Strict base64url (RFC 7515 section 2: no padding, no other characters, canonical trailing bits). Node's decoder
 * skips what it does not understand, which would give one token many accepted spellings.
 */
function decodeSegment(segment: string, what: string): Buffer {
  const bytes = Buffer.from(segment, "base64url");
  if (bytes.toString("base64url") !== segment) throw new IssuerError("TokenMalformed", `the token's ${what} is not base64url`);
  return bytes;
}

function parseSegment(segment: string, what: string): Record<string, unknown> {
  const bytes = decodeSegment(segment, what);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new IssuerError("TokenMalformed", `the token's ${what} is not base64url-encoded JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new IssuerError("TokenMalformed", `the token's ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Splits and decodes a compact JWS; throws TokenMalformed for anything else (including JWE). */
export function decodeCompactJws(token: string): DecodedJws {
  const parts = token.split(".");
  if (parts.length !== 3) throw new IssuerError("TokenMalformed", "the token is not a compact JWS (three parts)");
  const [h, p, s] = parts as [string, string, string];
  if (s === "") throw new IssuerError("TokenMalformed", "the token is unsigned");
  const header = parseSegment(h, "header");
  // RFC 7515 section 4.1.11: critical extensions we do not understand make the token unusable.
  if (header["crit"] !== undefined) throw new IssuerError("TokenMalformed", "the token header has crit extensions");
  return {
    header,
    payload: parseSegment(p, "payload"),
    signingInput: Buffer.from(`${h}.${p}`, "ascii"),
    signature: decodeSegment(s, "signature"),
  };
}

/** Key type and curve an algorithm requires: a key is never used with an algorithm it was not made for. */
export function keyMatchesAlgorithm(key: KeyObject, alg: JwsAlgorithm): boolean {
  const type = key.asymmetricKeyType;
  switch (alg) {
    case "RS256":
      return type === "rsa" && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;
    case "ES256":
      return type === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1";
    case "EdDSA":
      return type === "ed25519";
  }
}

/** Checks `signature` over `input` with `key` under `alg`. The caller has already allow-listed `alg`. */
export function verifySignature(alg: JwsAlgorithm, key: KeyObject, input: Buffer, signature: Buffer): boolean {
  if (!keyMatchesAlgorithm(key, alg)) return false;
  try {
    switch (alg) {
      case "RS256":
        return cryptoVerify("sha256", input, key, signature);
      case "ES256":
        if (signature.length !== 64) return false;
        return cryptoVerify("sha256", input, { key, dsaEncoding: "ieee-p1363" }, signature);
      case "EdDSA":
        return cryptoVerify(null, input, key, signature);
    }
  } catch {
    return false;
  }
}

/** Imports a public JWK; returns undefined for private, symmetric or unusable keys. */
export function importPublicJwk(jwk: Readonly<Record<string, unknown>>): KeyObject | undefined {
  // A JWK with private members ("d") or a symmetric key ("oct") never belongs in a published key set.
  if (jwk["d"] !== undefined || jwk["kty"] === "oct") return undefined;
  try {
    const key = createPublicKey({ key: jwk as JsonWebKey, format: "jwk" });
    return key.type === "public" ? key : undefined;
  } catch {
    return undefined;
  }
}
