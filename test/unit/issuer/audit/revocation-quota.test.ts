// Revocations per caller as data: counts by caller and expiry, charged, pruned with their tokens, parsed defensively.
import { describe, expect, it } from "vitest";
import { isAuditEndpointError } from "../../../../controller/src/issuer/audit/errors.ts";
import {
  chargeRevocation,
  parseRevocationCounts,
  revocationsBy,
  serializeRevocationCounts,
} from "../../../../controller/src/issuer/audit/revocation-quota.ts";

const NOW = 1_000_000;

describe("revocation counts per caller", () => {
  it("charges a caller up to its share, then refuses with the seconds until its earliest entry lapses", () => {
    let counts = chargeRevocation(new Map(), "ops/bot", NOW + 300, NOW, 2);
    counts = chargeRevocation(counts, "ops/bot", NOW + 60, NOW, 2);
    expect(revocationsBy(counts, "ops/bot")).toBe(2);
    try {
      chargeRevocation(counts, "ops/bot", NOW + 900, NOW, 2);
      expect.unreachable();
    } catch (error) {
      expect(isAuditEndpointError(error, "RevocationQuotaExceeded")).toBe(true);
      expect((error as { retryAfterSeconds?: number }).retryAfterSeconds).toBe(60);
      expect((error as Error).message).toContain("ops/bot holds 2 unexpired revocations");
    }
  });

  it("keeps each caller's share separate", () => {
    let counts = chargeRevocation(new Map(), "ops/bot", NOW + 60, NOW, 1);
    counts = chargeRevocation(counts, "sec/responder", NOW + 60, NOW, 1);
    expect([revocationsBy(counts, "ops/bot"), revocationsBy(counts, "sec/responder")]).toEqual([1, 1]);
  });

  it("gives a caller its share back as its revoked tokens expire", () => {
    const counts = chargeRevocation(new Map(), "ops/bot", NOW + 60, NOW, 1);
    expect(() => chargeRevocation(counts, "ops/bot", NOW + 120, NOW + 59, 1)).toThrow();
    const later = chargeRevocation(counts, "ops/bot", NOW + 120, NOW + 60, 1);
    expect(revocationsBy(later, "ops/bot")).toBe(1);
  });

  it("round-trips through its ConfigMap value", () => {
    const counts = chargeRevocation(chargeRevocation(new Map(), "ops/bot", NOW + 5, NOW, 9), "ops/bot", NOW + 5, NOW, 9);
    const text = serializeRevocationCounts(counts);
    expect(JSON.parse(text)).toEqual({ "ops/bot": { [String(NOW + 5)]: 2 } });
    expect(parseRevocationCounts(text)).toEqual(counts);
  });

  it.each([
    ["no value", undefined],
    ["not JSON", "{"],
    ["an array", "[1]"],
    ["a caller that is no service account", '{"nobody":{"5":1}}'],
    ["a count that is not a positive whole number", '{"ops/bot":{"5":-1,"6":"2","7":1.5}}'],
    ["an expiry that is not unix seconds", '{"ops/bot":{"soon":1}}'],
  ])("ignores %s", (_name, raw) => {
    expect(parseRevocationCounts(raw).size).toBe(0);
  });
});
