// The revocation list as data: parsing never trusts bad entries, adding prunes expired ones, the list is bounded.

import { describe, expect, it } from "vitest";
import { isAuditEndpointError } from "../../../../controller/src/issuer/audit/errors.ts";
import {
  addRevocation,
  isRevokedIn,
  isStorableJti,
  parseRevocations,
  pruneRevocations,
  serializeRevocations,
} from "../../../../controller/src/issuer/audit/revocation-list.ts";

const NOW = 1_800_000_000;

describe("revocation list", () => {
  it("parses good entries and ignores malformed ones", () => {
    const entries = parseRevocations({ good: String(NOW + 60), "bad key!": String(NOW + 60), notanumber: "soon", negative: "-5", float: "1.5" });
    expect([...entries]).toEqual([["good", NOW + 60]]);
  });

  it("treats an absent ConfigMap as an empty list", () => {
    expect(parseRevocations(undefined).size).toBe(0);
  });

  it("prunes entries whose token has expired", () => {
    const entries = new Map([
      ["expired", NOW - 1],
      ["at-now", NOW],
      ["live", NOW + 1],
    ]);
    expect([...pruneRevocations(entries, NOW).keys()]).toEqual(["live"]);
  });

  it("adds a revocation and prunes on the way", () => {
    const next = addRevocation(new Map([["old", NOW - 10]]), "new", NOW + 300, NOW, 10);
    expect([...next]).toEqual([["new", NOW + 300]]);
  });

  it("keeps the later exp when a jti is revoked twice", () => {
    const once = addRevocation(new Map(), "j", NOW + 300, NOW, 10);
    expect(addRevocation(once, "j", NOW + 100, NOW, 10).get("j")).toBe(NOW + 300);
  });

  it("does not store a revocation of a token that already expired", () => {
    expect(addRevocation(new Map(), "j", NOW - 1, NOW, 10).size).toBe(0);
  });

  it("refuses to grow beyond the bound", () => {
    const full = new Map([["a", NOW + 10]]);
    try {
      addRevocation(full, "b", NOW + 10, NOW, 1);
      expect.unreachable();
    } catch (error) {
      expect(isAuditEndpointError(error, "RevocationListFull")).toBe(true);
    }
  });

  it.each([
    ["a uuid", "0b7f6c1e-1111-4a2b-9c3d-000000000001", true],
    ["base64url", "Zm9vYmFy_-x", true],
    ["a slash", "a/b", false],
    ["a dot-dot", "..", false],
    ["an empty string", "", false],
    ["too long", "a".repeat(254), false],
  ])("judges %s as storable: %s", (_name, jti, ok) => {
    expect(isStorableJti(jti)).toBe(ok);
  });

  it("refuses a jti that cannot be a ConfigMap key", () => {
    expect(() => addRevocation(new Map(), "a/b", NOW + 1, NOW, 10)).toThrow(/jti must be/);
  });

  it("answers revoked only until the token's exp", () => {
    const entries = new Map([["j", NOW + 5]]);
    expect([isRevokedIn(entries, "j", NOW), isRevokedIn(entries, "j", NOW + 5), isRevokedIn(entries, "other", NOW)]).toEqual([true, false, false]);
  });

  it("serializes sorted, as strings, and round-trips", () => {
    const entries = new Map([
      ["b", NOW + 2],
      ["a", NOW + 1],
    ]);
    const data = serializeRevocations(entries);
    expect(Object.keys(data)).toEqual(["a", "b"]);
    expect(parseRevocations(data)).toEqual(new Map([["a", NOW + 1], ["b", NOW + 2]]));
  });
});
