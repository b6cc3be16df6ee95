// An explain report shortened for the demo: each audience's decision, why, and the policies considered.
import { describe, expect, it } from "vitest";
import type { ExplainReport } from "../../../controller/src/issuer/explain/explainer.ts";
import { explainLines } from "../../../examples/demo/explain-view.ts";

const policy = { policy: "TokenPolicy/checkout/checkout-to-payments", generation: 1, chosen: true, selected: true, audienceAllowed: true, conditions: [{ name: "tenant-labelled", passed: true }] };
const report: ExplainReport = {
  pod: { namespace: "checkout", name: "api-1", uid: "u", serviceAccount: "checkout/checkout-api" },
  at: "2026-01-01T00:00:00Z",
  requests: [
    {
      request: { audiences: ["https://payments.internal.example"], scopes: [] },
      allowed: true,
      policy: { ref: policy.policy, generation: 1 },
      policies: [policy],
      guardrails: [],
      owners: [],
      clamps: [],
      granted: { audiences: ["https://payments.internal.example"], scopes: ["payments.read"], ttlSeconds: 900 },
    },
    {
      request: { audiences: ["https://ledger.internal.example"], scopes: [] },
      allowed: false,
      owners: [],
      reason: "AudienceNotAllowed",
      message: "none allows every requested audience",
      policies: [{ ...policy, chosen: false, audienceAllowed: false, conditions: [] }],
      guardrails: [],
      clamps: [],
    },
  ],
};

describe("explainLines", () => {
  const lines = explainLines(report).split("\n");

  it.each([
    ["names the policy an allowed audience is granted under", "https://payments.internal.example: ALLOWED under TokenPolicy/checkout/checkout-to-payments (generation 1)"],
    ["says what was granted", "  granted scopes payments.read, ttl 900 s"],
    ["marks the deciding policy and its conditions", "  * TokenPolicy/checkout/checkout-to-payments: selects the pod, allows the audience, tenant-labelled passed"],
    ["gives a denied audience's reason", "https://ledger.internal.example: DENIED, AudienceNotAllowed"],
    ["says why it was denied", "  why: none allows every requested audience"],
    ["shows a policy that selects the pod but not the audience", "    TokenPolicy/checkout/checkout-to-payments: selects the pod, does not allow the audience"],
  ])("%s", (_name, line) => {
    expect(lines).toContain(line);
  });
});
