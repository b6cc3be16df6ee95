// The redaction layer refuses token- and key-shaped strings wherever they hide in a record.

import { describe, expect, it } from "vitest";
import { REDACTED_FIELD, REDACTED_JWT, REDACTED_KEY, looksLikeSecret, redact } from "../../../../controller/src/issuer/record/redaction.ts";
import { jwtShaped, pemShaped } from "../decision-fixtures.ts";

describe("decision log redaction", () => {
  it.each([
    ["a compact JWT", jwtShaped, true],
    ["a JWT embedded in a sentence", `bad token ${jwtShaped} given`, true],
    ["a PEM private key", pemShaped, true],
    ["a PEM certificate header", "-----BEGIN CERTIFICATE-----", true],
    ["a policy name", "TokenPolicy/payments/ledger", false],
    ["a URL audience", "https://ledger.example/api", false],
    ["a dotted scope", "ledger.read.all", false],
    ["a uuid", "0b7f6c1e-1111-4a2b-9c3d-000000000001", false],
  ])("classifies %s", (_name, value, secret) => {
    expect(looksLikeSecret(value)).toBe(secret);
  });

  it("replaces secrets at any depth and keeps everything else", () => {
    const out = redact({ a: [jwtShaped, "ok"], b: { c: pemShaped, n: 3, t: true, z: null } });
    expect(out).toEqual({ a: [REDACTED_JWT, "ok"], b: { c: REDACTED_KEY, n: 3, t: true, z: null } });
  });

  it("replaces the private members of a JWK but keeps its public ones", () => {
    const out = redact({ jwk: { kty: "EC", crv: "P-256", x: "abc", y: "def", d: "private-scalar", kid: "k1" } });
    expect(out).toEqual({ jwk: { kty: "EC", crv: "P-256", x: "abc", y: "def", d: REDACTED_KEY, kid: "k1" } });
  });

  it.each([
    ["a token one level down", { request: { token: "opaque" } }, { request: { token: REDACTED_FIELD } }],
    ["an Authorization header", { headers: { Authorization: "Bearer opaque" } }, { headers: { Authorization: REDACTED_FIELD } }],
    ["a private key object", { signer: { privateKey: { kty: "OKP" } } }, { signer: { privateKey: REDACTED_FIELD } }],
    ["a field at the top, which the root logger's paths do not reach either", { key: "k1" }, { key: "k1" }],
    ["a claim named key deeper down, kept for the record", { granted: { claims: { key: "tenant-a" } } }, { granted: { claims: { key: "tenant-a" } } }],
    ["a name that only contains a sensitive word", { pod: { tokenCount: 3, keyId: "k1" } }, { pod: { tokenCount: 3, keyId: "k1" } }],
  ])("by field name, like the root logger's paths: %s", (_name, value, expected) => {
    expect(redact(value)).toEqual(expected);
  });

  it("redacts secrets used as object keys", () => {
    expect(redact({ [jwtShaped]: 1 })).toEqual({ [REDACTED_JWT]: 1 });
  });

  it("stops descending into absurdly deep values", () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < 100; i += 1) deep = [deep];
    expect(JSON.stringify(redact(deep))).toContain("[redacted:depth]");
  });
});
