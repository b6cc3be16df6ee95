// Tessera's signing keys: generation, the stored form, public JWKs with RFC 7638 thumbprint kids, and signing.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as cryptoSign,
  type KeyObject,
} from "node:crypto";
import { IssuerError } from "../errors.ts";

/** Algorithms Tessera signs with: ES256 by default, EdDSA (Ed25519) when configured. */
export type SigningAlgorithm = "ES256" | "EdDSA";
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ["ES256", "EdDSA"];

/** A key as stored in the signing-keys Secret. */
export interface KeyRecord {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  /** RFC 3339: when the key was generated (and first published). */
  readonly createdAt: string;
  /** RFC 3339: from when the key signs; before that it is only published. */
  readonly activateAt: string;
  /** PKCS#8 PEM. */
  readonly privateKeyPem: string;
}

/** A public JWK as published. */
export interface PublicJwk {
  readonly kty: string;
  readonly crv: string;
  readonly x: string;
  readonly y?: string;
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly use: "sig";
}

/** A loaded key, ready to sign. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly createdAt: Date;
  readonly activateAt: Date;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicJwk: PublicJwk;
}

function publicJwkOf(privateKey: KeyObject, alg: SigningAlgorithm): Omit<PublicJwk, "kid"> & { kid?: string } {
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  if (typeof jwk.kty !== "string" || typeof jwk.crv !== "string" || typeof jwk.x !== "string") {
    throw new IssuerError("KeyStoreInvalid", "a signing key has no usable public JWK");
  }
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(typeof jwk.y === "string" ? { y: jwk.y } : {}), alg, use: "sig" };
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url): a kid every replica derives identically from the key itself. */
export function thumbprint(jwk: { kty: string; crv: string; x: string; y?: string }): string {
  // Required members only, in lexicographic order, no whitespace.
  const canonical =
    jwk.y === undefined
      ? JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x })
      : JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash("sha256").update(canonical).digest("base64url");
}

function keyAlgorithmMatches(key: KeyObject, alg: SigningAlgorithm): boolean {
  return alg === "ES256"
    ? key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1"
    : key.asymmetricKeyType === "ed25519";
}

/** Generates a key record: the leader calls this; `activateAt` comes from the rotation planner. */
export function generateKeyRecord(alg: SigningAlgorithm, createdAt: Date, activateAt: Date): KeyRecord {
  const { privateKey } =
    alg === "ES256" ? generateKeyPairSync("ec", { namedCurve: "P-256" }) : generateKeyPairSync("ed25519");
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  return {
    kid: thumbprint(publicJwkOf(privateKey, alg)),
    alg,
    createdAt: createdAt.toISOString(),
    activateAt: activateAt.toISOString(),
    privateKeyPem: pem,
  };
}

/** Loads a stored record; throws KeyStoreInvalid when it is damaged or its kid does not match its key. */
export function loadSigningKey(record: KeyRecord): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(record.privateKeyPem);
  } catch (error) {
    throw new IssuerError("KeyStoreInvalid", `signing key ${record.kid} is not a PKCS#8 private key`, { cause: error });
  }
  if (!keyAlgorithmMatches(privateKey, record.alg)) {
    throw new IssuerError("KeyStoreInvalid", `signing key ${record.kid} is not a ${record.alg} key`);
  }
  const jwk = publicJwkOf(privateKey, record.alg);
  const kid = thumbprint(jwk);
  if (kid !== record.kid) throw new IssuerError("KeyStoreInvalid", `signing key ${record.kid} does not match its kid`);
  const createdAt = new Date(record.createdAt);
  const activateAt = new Date(record.activateAt);
  if (Number.isNaN(createdAt.getTime()) || Number.isNaN(activateAt.getTime())) {
    throw new IssuerError("KeyStoreInvalid", `signing key ${record.kid} has an invalid timestamp`);
  }
  return {
    kid,
    alg: record.alg,
    createdAt,
    activateAt,
    privateKey,
    publicKey: createPublicKey(privateKey),
    publicJwk: { ...jwk, kid },
  };
}

/** Signs a JWS signing input. ES256 signatures are in the JOSE (r || s) form, not DER. */
export function signJws(key: SigningKey, input: Buffer): Buffer {
  return key.alg === "ES256"
    ? cryptoSign("sha256", input, { key: key.privateKey, dsaEncoding: "ieee-p1363" })
    : cryptoSign(null, input, key.privateKey);
}
