// Compact JWS decoding and signature checks: each allowed algorithm with its own key kind, nothing else, no malformed input.
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { CompactSign } from "jose";
import { describe, expect, it } from "vitest";
import { isIssuerError } from "../../../../controller/src/issuer/errors.ts";
import {
  decodeCompactJws,
  importPublicJwk,
  keyMatchesAlgorithm,
  verifySignature,
  type JwsAlgorithm,
} from "../../../../controller/src/issuer/keys/jws.ts";
import { generateKeyRecord, loadSigningKey } from "../../../../controller/src/issuer/keys/keys.ts";
import { NOW, ecClusterKey, hs256WithPublicKey, projectedClaims, rsaClusterKey, unsignedToken } from "../fixtures.ts";

interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const rsa = rsaClusterKey();
const ec = ecClusterKey();
const ed = loadSigningKey(generateKeyRecord("EdDSA", NOW, NOW));
const KEYS: Readonly<Record<JwsAlgorithm, KeyPair>> = { RS256: rsa, ES256: ec, EdDSA: ed };
const rsa1024 = generateKeyPairSync("rsa", { modulusLength: 1024 });
const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" });
const ed448 = generateKeyPairSync("ed448");

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Signs with jose, independently of Tessera's own signer. */
async function joseSigned(alg: JwsAlgorithm, key: KeyObject, payload: unknown = { sub: "a" }): Promise<string> {
  return await new CompactSign(Buffer.from(JSON.stringify(payload))).setProtectedHeader({ alg, kid: "k" }).sign(key);
}

function verifies(token: string, alg: JwsAlgorithm, key: KeyObject): boolean {
  const jws = decodeCompactJws(token);
  return verifySignature(alg, key, jws.signingInput, jws.signature);
}

function malformedCode(token: string): string {
  try {
    decodeCompactJws(token);
    return "decoded";
  } catch (error) {
    if (isIssuerError(error)) return error.code;
    throw error;
  }
}

describe("decodeCompactJws", () => {
  it("returns the header, the payload, the signed bytes and the signature", async () => {
    const token = await joseSigned("ES256", ec.privateKey, { sub: "a", n: 1 });
    const [h, p, s] = token.split(".");
    const jws = decodeCompactJws(token);
    expect(jws.header).toEqual({ alg: "ES256", kid: "k" });
    expect(jws.payload).toEqual({ sub: "a", n: 1 });
    expect(jws.signingInput.toString("ascii")).toBe(`${h ?? ""}.${p ?? ""}`);
    expect(jws.signature).toEqual(Buffer.from(s ?? "", "base64url"));
  });

  it.each([
    ["an empty string", ""],
    ["a token with two parts", `${b64({ alg: "ES256" })}.${b64({})}`],
    ["a token with four parts", `${b64({ alg: "ES256" })}.${b64({})}.c2ln.c2ln`],
    ["a JWE (five parts)", `${b64({ alg: "RSA-OAEP", enc: "A256GCM" })}.a.b.c.d`],
    ["an unsigned token (empty signature)", `${b64({ alg: "ES256" })}.${b64({})}.`],
    ["an alg none token from the fixtures", unsignedToken(projectedClaims(), "rsa-1")],
    ["a header that is not base64url", `!!!.${b64({})}.c2ln`],
    ["a header that is base64url but not JSON", `${Buffer.from("{alg:ES256").toString("base64url")}.${b64({})}.c2ln`],
    ["a header that is a JSON array", `${b64(["ES256"])}.${b64({})}.c2ln`],
    ["a header that is JSON null", `${b64(null)}.${b64({})}.c2ln`],
    ["a header with crit extensions", `${b64({ alg: "ES256", crit: ["exp"], exp: 1 })}.${b64({})}.c2ln`],
    ["a payload that is not base64url", `${b64({ alg: "ES256" })}.!!!.c2ln`],
    ["a payload that is not JSON", `${b64({ alg: "ES256" })}.${Buffer.from("sub=a").toString("base64url")}.c2ln`],
    ["a payload that is a JSON string", `${b64({ alg: "ES256" })}.${b64("sub")}.c2ln`],
    ["a payload that is a JSON number", `${b64({ alg: "ES256" })}.${b64(42)}.c2ln`],
    ["a payload that is a JSON array", `${b64({ alg: "ES256" })}.${b64([{ sub: "a" }])}.c2ln`],
  ])("refuses %s as TokenMalformed", (_case, token) => {
    expect(malformedCode(token)).toBe("TokenMalformed");
  });

  // One token, one spelling: node's decoder would skip these characters and accept the same signature again.
  it.each([
    ["padding after the signature", (t: string) => `${t}==`],
    ["characters outside base64url after the signature", (t: string) => `${t}!!`],
    ["standard base64 characters in the signature", (t: string) => t.replace(/-/g, "+").replace(/_/g, "/") + (/[-_]/.test(t) ? "" : "+")],
    ["padding after the header", (t: string) => t.replace(".", "=.")],
  ])("refuses a genuine token respelled with %s", async (_case, respell) => {
    const token = await joseSigned("ES256", ec.privateKey, { sub: "a" });
    expect(malformedCode(token)).toBe("decoded");
    expect(malformedCode(respell(token))).toBe("TokenMalformed");
  });
});

describe("verifySignature", () => {
  it.each(["RS256", "ES256", "EdDSA"] as const)("accepts a %s signature made by jose with the matching key", async (alg) => {
    expect(verifies(await joseSigned(alg, KEYS[alg].privateKey), alg, KEYS[alg].publicKey)).toBe(true);
  });

  it.each(["RS256", "ES256", "EdDSA"] as const)("refuses a %s token whose payload was changed after signing", async (alg) => {
    const [h, , s] = (await joseSigned(alg, KEYS[alg].privateKey, { sub: "a" })).split(".");
    expect(verifies(`${h ?? ""}.${b64({ sub: "admin" })}.${s ?? ""}`, alg, KEYS[alg].publicKey)).toBe(false);
  });

  it.each(["RS256", "ES256", "EdDSA"] as const)("refuses a %s token whose signature has one byte changed", async (alg) => {
    const [h, p, s] = (await joseSigned(alg, KEYS[alg].privateKey)).split(".");
    const signature = Buffer.from(s ?? "", "base64url");
    signature[10] = (signature[10] ?? 0) ^ 0x01;
    expect(verifies(`${h ?? ""}.${p ?? ""}.${signature.toString("base64url")}`, alg, KEYS[alg].publicKey)).toBe(false);
  });

  it.each(["RS256", "ES256", "EdDSA"] as const)("refuses a %s signature checked with another key of the same kind", async (alg) => {
    const other = alg === "RS256" ? rsaClusterKey() : alg === "ES256" ? ecClusterKey() : loadSigningKey(generateKeyRecord("EdDSA", NOW, NOW));
    expect(verifies(await joseSigned(alg, KEYS[alg].privateKey), alg, other.publicKey)).toBe(false);
  });

  it.each<[string, JwsAlgorithm, KeyObject]>([
    ["an EC P-256 key under RS256", "RS256", ec.publicKey],
    ["an Ed25519 key under RS256", "RS256", ed.publicKey],
    ["an RSA key under ES256", "ES256", rsa.publicKey],
    ["an EC P-384 key under ES256", "ES256", p384.publicKey],
    ["an Ed25519 key under ES256", "ES256", ed.publicKey],
    ["an RSA key under EdDSA", "EdDSA", rsa.publicKey],
    ["an EC P-256 key under EdDSA", "EdDSA", ec.publicKey],
    ["an Ed448 key under EdDSA", "EdDSA", ed448.publicKey],
    ["a 1024-bit RSA key under RS256", "RS256", rsa1024.publicKey],
  ])("will not use %s", (_case, alg, key) => {
    expect(keyMatchesAlgorithm(key, alg)).toBe(false);
  });

  it("refuses a 1024-bit RSA signature even though the signature itself is valid", () => {
    const input = Buffer.from(`${b64({ alg: "RS256" })}.${b64({ sub: "a" })}`);
    expect(verifySignature("RS256", rsa1024.publicKey, input, sign("sha256", input, rsa1024.privateKey))).toBe(false);
  });

  it("refuses an ES256 signature in DER form (JOSE wants the 64-byte r || s)", () => {
    const input = Buffer.from(`${b64({ alg: "ES256" })}.${b64({ sub: "a" })}`);
    expect(verifySignature("ES256", ec.publicKey, input, sign("sha256", input, ec.privateKey))).toBe(false);
  });

  it("refuses an RS256 signature presented under ES256 with the RSA key", async () => {
    const jws = decodeCompactJws(await joseSigned("RS256", rsa.privateKey));
    expect(verifySignature("ES256", rsa.publicKey, jws.signingInput, jws.signature)).toBe(false);
  });

  it.each([
    ["none, with a signature appended", "none", `${unsignedToken({ sub: "a" }, "k")}AA`],
    ["HS256 keyed with the public key's PEM", "HS256", hs256WithPublicKey(rsa, { sub: "a" })],
    ["RS384", "RS384", `${b64({ alg: "RS384" })}.${b64({ sub: "a" })}.${sign("sha384", Buffer.from(`${b64({ alg: "RS384" })}.${b64({ sub: "a" })}`), rsa.privateKey).toString("base64url")}`],
    ["PS256", "PS256", `${b64({ alg: "PS256" })}.${b64({ sub: "a" })}.c2ln`],
  ])("refuses an algorithm outside the allowed set: %s", (_case, alg, token) => {
    // A caller that forgot to allow-list the header's alg still gets no.
    const jws = decodeCompactJws(token);
    expect(verifySignature(alg as JwsAlgorithm, rsa.publicKey, jws.signingInput, jws.signature)).toBe(false);
  });
});

describe("importPublicJwk", () => {
  it.each(["RS256", "ES256", "EdDSA"] as const)("imports the public JWK of a %s key", (alg) => {
    const key = importPublicJwk(KEYS[alg].publicKey.export({ format: "jwk" }));
    expect(key?.type).toBe("public");
    expect(key?.equals(KEYS[alg].publicKey)).toBe(true);
  });

  it.each<[string, Record<string, unknown>]>([
    ["a JWK with its private part", ec.privateKey.export({ format: "jwk" })],
    ["a symmetric (oct) JWK", { kty: "oct", k: "c2VjcmV0" }],
    ["a JWK with an unknown key type", { kty: "XYZ", x: "AA" }],
    ["an EC JWK whose point is not on the curve", { kty: "EC", crv: "P-256", x: "AA", y: "AA" }],
    ["an empty object", {}],
  ])("returns nothing for %s", (_case, jwk) => {
    expect(importPublicJwk(jwk)).toBeUndefined();
  });
});
