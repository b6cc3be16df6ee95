// The policy validating webhook: owner, CEL and guardrail problems with field paths, and conflicts.
import { describe, expect, it } from "vitest";
import type { AnyTokenPolicy, ClusterTokenPolicy, TokenPolicy } from "../../../api/token-policy.ts";
import type { Json } from "../../../controller/src/admission/json-patch.ts";
import { selectorsCanOverlap } from "../../../controller/src/admission/policy-conflicts.ts";
import type { AdmissionRequest } from "../../../controller/src/admission/review.ts";
import {
  validatePolicy,
  type FieldProblem,
  type PolicyWebhookOptions,
} from "../../../controller/src/admission/validate-policy.ts";

function tokenPolicy(name: string, spec: Partial<TokenPolicy["spec"]> = {}): TokenPolicy {
  return {
    apiVersion: "tessera.dev/v1alpha1",
    kind: "TokenPolicy",
    metadata: { name, namespace: "shop" },
    spec: { owner: { team: "payments" }, audiences: ["orders"], subjects: { serviceAccounts: ["web"] }, ...spec },
  };
}

function clusterPolicy(name: string, spec: Partial<ClusterTokenPolicy["spec"]> = {}): ClusterTokenPolicy {
  return { apiVersion: "tessera.dev/v1alpha1", kind: "ClusterTokenPolicy", metadata: { name }, spec: { owner: { team: "platform" }, ...spec } };
}

function request(object: AnyTokenPolicy | Json, oldObject?: AnyTokenPolicy): AdmissionRequest {
  return {
    uid: "u",
    kind: { group: "tessera.dev", version: "v1alpha1", kind: "TokenPolicy" },
    operation: oldObject === undefined ? "CREATE" : "UPDATE",
    object: object as Json,
    ...(oldObject === undefined ? {} : { oldObject: oldObject as unknown as Json }),
    dryRun: false,
  };
}

/** Stand-ins for the engine: a CEL "compiler" that refuses one misspelling, and a TTL guardrail. */
function options(current: AnyTokenPolicy[] = []): PolicyWebhookOptions {
  return {
    compiler: {
      compile: (policy) =>
        ("claims" in policy.spec ? (policy.spec.claims ?? []) : []).flatMap((claim, i): FieldProblem[] =>
          claim.expression.includes("namspace")
            ? [{ path: `spec.claims[${i}].expression`, message: "undeclared reference to 'namspace'" }]
            : [],
        ),
    },
    guardrails: {
      violations: (policy, policies) => {
        const max = Math.min(...policies.flatMap((p) => (p.kind === "ClusterTokenPolicy" && p.spec.guardrails?.maxTtlSeconds !== undefined ? [p.spec.guardrails.maxTtlSeconds] : [])));
        return (policy.spec.ttlSeconds ?? 600) > max ? [{ path: "spec.ttlSeconds", message: `exceeds the guardrail maximum ${max}` }] : [];
      },
    },
    source: { list: () => current },
  };
}

describe("validatePolicy", () => {
  it("allows a sound policy", async () => {
    expect(await validatePolicy(request(tokenPolicy("a")), options())).toEqual({ allowed: true, warnings: [] });
  });

  it.each<[string, AnyTokenPolicy | Json, AnyTokenPolicy[], string]>([
    ["a blank owner team", tokenPolicy("a", { owner: { team: "  " } }), [], "spec.owner.team: must name the team"],
    [
      "a CEL expression that does not type-check",
      tokenPolicy("a", { claims: [{ name: "tenant", expression: "namspace.name" }] }),
      [],
      "spec.claims[0].expression: undeclared reference to 'namspace'",
    ],
    [
      "a TTL above a ClusterTokenPolicy guardrail",
      tokenPolicy("a", { ttlSeconds: 3600 }),
      [clusterPolicy("baseline", { guardrails: { maxTtlSeconds: 900 } })],
      "spec.ttlSeconds: exceeds the guardrail maximum 900",
    ],
    [
      "a new tie with a policy of the same priority, subjects and audience",
      tokenPolicy("a"),
      [tokenPolicy("b", { audiences: ["orders", "billing"] })],
      "spec.priority: ties with TokenPolicy shop/b",
    ],
    ["an object that is not a policy", { apiVersion: "v1", kind: "Pod" }, [], "invalid policy: apiVersion"],
  ])("denies %s with the field path", async (_name, policy, current, message) => {
    const outcome = await validatePolicy(request(policy), options(current));
    expect(outcome.allowed).toBe(false);
    expect(!outcome.allowed && outcome.message).toContain(message);
  });

  it("lists every problem in one message", async () => {
    const outcome = await validatePolicy(
      request(tokenPolicy("a", { owner: { team: "" }, claims: [{ name: "t", expression: "namspace" }] })),
      options(),
    );
    expect(!outcome.allowed && outcome.message).toMatch(/spec\.owner\.team: .*; spec\.claims\[0\]\.expression: /);
  });

  it.each<[string, AnyTokenPolicy]>([
    ["a different priority", tokenPolicy("b", { priority: 10 })],
    ["disjoint audiences", tokenPolicy("b", { audiences: ["billing"] })],
    ["disjoint service accounts", tokenPolicy("b", { subjects: { serviceAccounts: ["api"] } })],
    ["another namespace", { ...tokenPolicy("b"), metadata: { name: "b", namespace: "other" } }],
  ])("does not call a policy with %s a conflict", async (_name, other) => {
    expect((await validatePolicy(request(tokenPolicy("a")), options([other]))).allowed).toBe(true);
  });

  it("only warns about a conflict the stored policy already had, so it can still be edited", async () => {
    const existing = tokenPolicy("b");
    const outcome = await validatePolicy(
      request(tokenPolicy("a", { description: "edited" }), tokenPolicy("a")),
      options([existing, tokenPolicy("a")]),
    );
    expect(outcome.allowed).toBe(true);
    expect(outcome.warnings?.[0]).toContain("ties with TokenPolicy shop/b");
  });

  it("warns when new guardrails make existing TokenPolicies violate them", async () => {
    const outcome = await validatePolicy(
      request(clusterPolicy("strict", { guardrails: { maxTtlSeconds: 60 } })),
      options([tokenPolicy("a", { ttlSeconds: 300 })]),
    );
    expect(outcome.allowed).toBe(true);
    expect(outcome.warnings?.[0]).toContain("TokenPolicy shop/a");
  });
});

describe("selectorsCanOverlap", () => {
  it.each([
    ["absent selectors", undefined, undefined, true],
    ["equal matchLabels", { matchLabels: { app: "web" } }, { matchLabels: { app: "web" } }, true],
    ["different values for one key", { matchLabels: { app: "web" } }, { matchLabels: { app: "api" } }, false],
    ["different keys", { matchLabels: { app: "web" } }, { matchLabels: { tier: "front" } }, true],
    ["In against NotIn of every value", { matchExpressions: [{ key: "a", operator: "In" as const, values: ["x"] }] }, { matchExpressions: [{ key: "a", operator: "NotIn" as const, values: ["x"] }] }, false],
    ["Exists against DoesNotExist", { matchExpressions: [{ key: "a", operator: "Exists" as const }] }, { matchExpressions: [{ key: "a", operator: "DoesNotExist" as const }] }, false],
    ["matchLabels against DoesNotExist", { matchLabels: { a: "x" } }, { matchExpressions: [{ key: "a", operator: "DoesNotExist" as const }] }, false],
    ["overlapping In sets", { matchExpressions: [{ key: "a", operator: "In" as const, values: ["x", "y"] }] }, { matchExpressions: [{ key: "a", operator: "In" as const, values: ["y", "z"] }] }, true],
  ])("decides %s", (_name, a, b, expected) => {
    expect(selectorsCanOverlap(a, b)).toBe(expected);
  });
});
