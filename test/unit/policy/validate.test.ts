// validateAgainstGuardrails: what admission refuses and what status reports as narrowed, at field paths.

import { describe, expect, it } from "vitest";
import { validateAgainstGuardrails } from "../../../controller/src/policy/index.ts";
import { clusterPolicy, compiled, policySet, tokenPolicy } from "./fixtures.ts";

describe("validateAgainstGuardrails", () => {
  const rails = clusterPolicy("baseline", {
    guardrails: {
      maxTtlSeconds: 300,
      reservedAudiences: ["https://kubernetes.default.svc"],
      allowedScopes: ["read"],
      reservedClaims: ["tenant"],
      maxDelegationChainLength: 1,
    },
  });
  const policy = compiled(
    tokenPolicy("p", {
      audiences: ["https://ledger.internal", "https://kubernetes.default.svc"],
      scopes: { allowed: ["read", "write"] },
      ttlSeconds: 900,
      claims: [{ name: "tenant", expression: "namespace.name" }],
      delegation: { actors: [{ subject: "user:alice" }], maxChainLength: 3 },
    }),
  );

  it("reports every violation with its path and effect", () => {
    const set = policySet(rails);
    expect(validateAgainstGuardrails(policy, set).map((v) => [v.path, v.effect])).toEqual([
      ["spec.audiences[1]", "deny"],
      ["spec.claims[0].name", "deny"],
      ["spec.scopes.allowed[1]", "narrow"],
      ["spec.ttlSeconds", "narrow"],
      ["spec.delegation.maxChainLength", "narrow"],
    ]);
  });

  it("finds nothing where the guardrails' namespaceSelector does not select the namespace", () => {
    const scoped = clusterPolicy("prod", { guardrails: { namespaceSelector: { matchLabels: { env: "prod" } }, maxTtlSeconds: 60 } });
    expect(validateAgainstGuardrails(policy, policySet(scoped), { env: "dev" })).toEqual([]);
    expect(validateAgainstGuardrails(policy, policySet(scoped), { env: "prod" })).toHaveLength(1);
  });

  it("never binds a ClusterTokenPolicy", () => {
    const cluster = compiled(clusterPolicy("c", { subjects: { namespaceSelector: {} }, audiences: ["https://kubernetes.default.svc"] }));
    expect(validateAgainstGuardrails(cluster, policySet(rails))).toEqual([]);
  });
});
