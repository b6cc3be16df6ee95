// Signing keys: stored records round-trip, kids are RFC 7638 thumbprints, damaged records are refused.
import { calculateJwkThumbprint } from "jose";
import { describe, expect, it } from "vitest";
import { isIssuerError } from "../../../../controller/src/issuer/errors.ts";
import { decodeKeyRecords, encodeKeyRecords } from "../../../../controller/src/issuer/keys/key-store.ts";
import { generateKeyRecord, loadSigningKey } from "../../../../controller/src/issuer/keys/keys.ts";
import { NOW } from "../fixtures.ts";

describe("signing keys", () => {
  it.each(["ES256", "EdDSA"] as const)("derives the kid of a %s key as its JWK thumbprint", async (alg) => {
    const key = loadSigningKey(generateKeyRecord(alg, NOW, NOW));
    expect(key.kid).toBe(await calculateJwkThumbprint({ ...key.publicJwk }, "sha256"));
    expect(key.publicJwk).not.toHaveProperty("d");
    expect(key.publicJwk.use).toBe("sig");
  });

  it("round-trips records through the Secret encoding", () => {
    const records = [generateKeyRecord("ES256", NOW, NOW), generateKeyRecord("EdDSA", NOW, NOW)];
    expect(decodeKeyRecords(encodeKeyRecords(records))).toEqual(records);
  });

  it("refuses a record whose kid does not match its key", () => {
    const record = { ...generateKeyRecord("ES256", NOW, NOW), kid: "swapped" };
    expect(() => loadSigningKey(record)).toThrow(expect.toSatisfy((e) => isIssuerError(e, "KeyStoreInvalid")));
  });

  it("refuses a record whose algorithm does not match its key", () => {
    const record = { ...generateKeyRecord("ES256", NOW, NOW), alg: "EdDSA" as const };
    expect(() => loadSigningKey(record)).toThrow(expect.toSatisfy((e) => isIssuerError(e, "KeyStoreInvalid")));
  });

  it("refuses Secret data that is not a list of records", () => {
    expect(() => decodeKeyRecords(Buffer.from('{"keys":[{"kid":1}]}').toString("base64"))).toThrow(
      expect.toSatisfy((e) => isIssuerError(e, "KeyStoreInvalid")),
    );
  });
});
