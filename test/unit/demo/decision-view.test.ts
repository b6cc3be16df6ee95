// A logged decision record reduced to what a person reads first.
import { describe, expect, it } from "vitest";
import { decisionLines } from "../../../examples/demo/decision-view.ts";

const evaluations = [{ policy: "TokenPolicy/checkout/checkout-to-payments", selected: true, audienceAllowed: false, conditionsFailed: [] }];

describe("decisionLines", () => {
  it.each([
    [
      "says which policy allowed a token and what it granted",
      {
        decisionId: "j1",
        at: "2026-01-01T00:00:00Z",
        allowed: true,
        policy: { ref: "TokenPolicy/checkout/checkout-to-payments", generation: 2 },
        granted: { audiences: ["https://payments.internal.example"], scopes: ["payments.read"], ttlSeconds: 900, claims: { tenant: "acme" } },
        clamps: [],
        evaluations,
      },
      ["allowed     by TokenPolicy/checkout/checkout-to-payments (generation 2)", 'claims      {"tenant":"acme"}'],
    ],
    [
      "gives a denial's reason and message",
      { decisionId: "d1", at: "2026-01-01T00:00:00Z", allowed: false, reason: "NoMatchingPolicy", message: "no policy grants the audience", evaluations },
      ["denied      NoMatchingPolicy", "message     no policy grants the audience", "evaluated   TokenPolicy/checkout/checkout-to-payments: selected true, audience not allowed"],
    ],
    [
      "counts the policies that do not select the subject",
      { decisionId: "d2", at: "2026-01-01T00:00:00Z", allowed: false, reason: "NoMatchingPolicy", message: "no policy grants tokens", evaluations: [], notSelecting: 3 },
      ["not chosen  3 more policies do not select this subject"],
    ],
  ])("%s", (_name, record, expected) => {
    const lines = decisionLines(record).split("\n");
    for (const line of expected) expect(lines).toContain(line);
  });
});
