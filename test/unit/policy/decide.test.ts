// decide: every denial reason, the grant's narrowing by request, policy and guardrails, and delegation.

import { describe, expect, it } from "vitest";
import type { AnyTokenPolicy, PolicyGuardrails } from "../../../api/token-policy.ts";
import {
  PolicySet,
  compilePolicy,
  decide,
  rejectionOf,
  explain,
  type Decision,
  type DenialReason,
  type RejectedPolicy,
  type Subject,
  type TokenRequest,
} from "../../../controller/src/policy/index.ts";
import { NOW, clusterPolicy, compiled, policySet, request, saActor, subject, tokenPolicy, OPEN_EVERY_AUDIENCE } from "./fixtures.ts";

const LEDGER = "https://ledger.internal";
const KUBE = "https://kubernetes.default.svc";

function run(policies: PolicySet, s: Subject = subject(), r: TokenRequest = request()): Decision {
  return decide({ subject: s, request: r, policies, now: NOW, id: "d-1" });
}

function denial(d: Decision): [DenialReason, string] | "allowed" {
  return d.allowed ? "allowed" : [d.reason, d.message];
}

const baseline = (guardrails: PolicyGuardrails) => clusterPolicy("baseline", { guardrails });

describe("decide denies with a reason and a message a person can act on", () => {
  const agent = saActor("agents", "planner");
  it.each<[string, AnyTokenPolicy[], Subject, TokenRequest, DenialReason, string]>([
    ["no policy selects the subject", [tokenPolicy("p", { subjects: { serviceAccounts: ["worker"] } })], subject(), request(), "NoMatchingPolicy", "no policy grants tokens to service account payments/api"],
    ["the policy does not allow the audience", [tokenPolicy("p")], subject(), request(["https://other"]), "AudienceNotAllowed", "TokenPolicy/payments/p selects service account payments/api (pod api-7d9f) but does not allow every requested audience (https://other)"],
    ["neither of two selecting policies allows the audience", [tokenPolicy("p"), tokenPolicy("q")], subject(), request(["https://other"]), "AudienceNotAllowed", "TokenPolicy/payments/p, TokenPolicy/payments/q select service account payments/api (pod api-7d9f) but none allows every requested audience (https://other)"],
    ["no audience is requested", [tokenPolicy("p")], subject(), request([]), "AudienceNotAllowed", "the request names no audience"],
    ["a requested scope is not allowed", [tokenPolicy("p", { scopes: { allowed: ["read"] } })], subject(), request([LEDGER], ["write"]), "ScopeNotAllowed", "does not allow scope 'write'"],
    ["a condition fails", [tokenPolicy("p", { conditions: [{ name: "prod-only", expression: 'cluster.environment == "prod"', message: "only in prod" }] })], subject({ environment: "dev" }), request(), "ConditionFailed", "condition 'prod-only' failed: only in prod"],
    ["a condition cannot be evaluated", [tokenPolicy("p", { conditions: [{ name: "owner", expression: 'pod.owner.kind == "Job"', message: "jobs only" }] })], subject(), request(), "ConditionFailed", "condition 'owner' failed: could not be evaluated"],
    ["two equal policies both grant", [tokenPolicy("a"), tokenPolicy("b")], subject(), request(), "PolicyConflict", "TokenPolicy/payments/a and TokenPolicy/payments/b"],
    ["an actor asks under a policy without delegation", [tokenPolicy("p")], subject({ actors: [agent] }), request(), "DelegationNotAllowed", "accepts no actor"],
    ["an actor the policy does not name", [tokenPolicy("p", { delegation: { actors: [{ subject: "user:alice" }], maxChainLength: 2 } })], subject({ actors: [agent] }), request(), "DelegationNotAllowed", "does not allow 'system:serviceaccount:agents:planner'"],
    ["the chain is longer than the policy allows", [tokenPolicy("p", { delegation: { actors: [{ serviceAccount: { namespace: "agents", name: "planner" } }], maxChainLength: 1 } })], subject({ actors: [agent, agent] }), request(), "DelegationChainTooLong", "chain of 2 actors exceeds 1"],
    ["the chain is longer than the guardrail allows", [baseline({ maxDelegationChainLength: 1 }), tokenPolicy("p", { delegation: { actors: [{ serviceAccount: { namespace: "agents", name: "planner" } }], maxChainLength: 3 } })], subject({ actors: [agent, agent] }), request(), "DelegationChainTooLong", "the longest ClusterTokenPolicy/baseline allows"],
    ["a TokenPolicy grants a reserved audience", [baseline({ reservedAudiences: [LEDGER] }), tokenPolicy("p")], subject(), request(), "GuardrailViolation", "reserved for ClusterTokenPolicies by ClusterTokenPolicy/baseline (guardrails.reservedAudiences)"],
    ["a TokenPolicy grants an audience outside the allowed ones", [baseline({ allowedAudiences: ["https://x"] }), tokenPolicy("p")], subject(), request(), "GuardrailViolation", "not among the audiences allowed"],
    ["a TokenPolicy sets a reserved claim", [baseline({ reservedClaims: ["tenant"] }), tokenPolicy("p", { claims: [{ name: "tenant", expression: "namespace.name" }] })], subject(), request(), "GuardrailViolation", "spec.claims[0]: claim 'tenant' is reserved by ClusterTokenPolicy/baseline (guardrails.reservedClaims)"],
    ["a TokenPolicy sets a claim outside the allowed ones", [baseline({ allowedClaims: ["team"] }), tokenPolicy("p", { claims: [{ name: "tenant", expression: "namespace.name" }] })], subject(), request(), "GuardrailViolation", "not among the claims allowed"],
    ["a requested scope is outside the guardrail's scopes", [baseline({ allowedScopes: ["read"] }), tokenPolicy("p", { scopes: { allowed: ["read", "write"] } })], subject(), request([LEDGER], ["write"]), "ScopeNotAllowed", "not among the scopes ClusterTokenPolicy/baseline allow"],
    ["a claim fails to evaluate", [tokenPolicy("p", { claims: [{ name: "tenant", expression: 'namespace.labels["missing"]' }] })], subject(), request(), "ClaimEvaluationFailed", "spec.claims[0] (claim 'tenant') failed"],
  ])("%s", (_name, policies, s, r, reason, message) => {
    const d = run(policySet(...policies), s, r);
    expect(denial(d)).toEqual([reason, expect.stringContaining(message)]);
  });

  it("names a policy that was not accepted when no other applies", () => {
    const broken = compilePolicy(tokenPolicy("broken", { claims: [{ name: "t", expression: "namspace.name" }] }));
    if (broken.ok) throw new Error("expected a compile error");
    const rejected: RejectedPolicy = { ref: broken.ref, errors: broken.errors };
    const d = run(PolicySet.from([compiled(OPEN_EVERY_AUDIENCE)], [rejected]));
    expect(denial(d)).toEqual([
      "PolicyNotAccepted",
      expect.stringContaining("TokenPolicy/payments/broken (spec.claims[0].expression: undeclared reference to 'namspace'"),
    ]);
  });

  it("fails closed for TokenPolicies while a ClusterTokenPolicy's guardrails do not compile", () => {
    const broken = compilePolicy(clusterPolicy("rails", { guardrails: { allowedClaims: ["sub"] } }));
    if (broken.ok) throw new Error("expected a compile error");
    const set = PolicySet.from(
      [
        compiled(tokenPolicy("p")),
        compiled(clusterPolicy("c", { subjects: { namespaceSelector: {} }, audiences: [KUBE], audienceOwnership: [{ audiences: [KUBE], ownedBy: "Cluster" }] })),
        compiled(OPEN_EVERY_AUDIENCE),
      ],
      [rejectionOf(broken)],
    );
    expect(denial(run(set))).toEqual(["PolicyNotAccepted", expect.stringContaining("guardrails of ClusterTokenPolicy/rails")]);
    expect(run(set, subject(), request([KUBE])).allowed).toBe(true);
  });

  it("does not fall through to a lower policy when a condition of the chosen one fails", () => {
    const d = run(
      policySet(
        tokenPolicy("strict", { priority: 5, conditions: [{ name: "never", expression: "false", message: "closed" }] }),
        tokenPolicy("lenient"),
      ),
    );
    expect(denial(d)).toEqual(["ConditionFailed", expect.stringContaining("TokenPolicy/payments/strict condition 'never'")]);
    expect(!d.allowed && d.policy?.name).toBe("strict");
  });

  it("records every condition even after the first failure", () => {
    const d = run(
      policySet(
        tokenPolicy("p", {
          conditions: [
            { name: "a", expression: "false", message: "first" },
            { name: "b", expression: "true", message: "second" },
          ],
        }),
      ),
    );
    expect(d.evaluations[0]?.conditions).toEqual([
      { name: "a", passed: false, message: "first" },
      { name: "b", passed: true },
    ]);
  });
});

describe("decide grants no more than the request, the policy and the guardrails allow", () => {
  it("grants the requested audiences, scopes, the policy TTL and evaluated claims", () => {
    const d = run(
      policySet(
        tokenPolicy("p", {
          scopes: { allowed: ["read", "write"], default: ["read"] },
          ttlSeconds: 900,
          claims: [
            { name: "tenant", expression: 'namespace.labels["tessera.dev/tenant"]' },
            { name: "pod_info", expression: '{"node": pod.nodeName, "labels": size(pod.labels)}' },
          ],
        }),
      ),
      subject(),
      request([LEDGER], ["write"]),
    );
    expect(d).toMatchObject({
      allowed: true,
      id: "d-1",
      at: "2026-01-02T03:04:05.000Z",
      policy: { kind: "TokenPolicy", namespace: "payments", name: "p", generation: 1 },
      grant: {
        audiences: [LEDGER],
        scopes: ["write"],
        ttlSeconds: 900,
        claims: { tenant: "acme", pod_info: { node: "node-1", labels: 1 } },
        clamps: [],
      },
    });
  });

  it("grants the default scopes when none are requested", () => {
    const d = run(policySet(tokenPolicy("p", { scopes: { allowed: ["read", "write"], default: ["read"] } })));
    expect(d.allowed && d.grant.scopes).toEqual(["read"]);
  });

  it("uses 600 seconds when the policy sets no TTL", () => {
    const d = run(policySet(tokenPolicy("p")));
    expect(d.allowed && d.grant.ttlSeconds).toBe(600);
  });

  it("clamps the TTL to the strictest guardrail and says which one", () => {
    const d = run(
      policySet(
        clusterPolicy("loose", { guardrails: { maxTtlSeconds: 1800 } }),
        clusterPolicy("tight", { guardrails: { maxTtlSeconds: 300 } }),
        tokenPolicy("p", { ttlSeconds: 3600 }),
      ),
    );
    expect(d.allowed && d.grant).toMatchObject({
      ttlSeconds: 300,
      clamps: ["ttl clamped from 3600s to 300s by ClusterTokenPolicy/tight"],
    });
  });

  it("drops default scopes the guardrails do not allow", () => {
    const d = run(
      policySet(baseline({ allowedScopes: ["read"] }), tokenPolicy("p", { scopes: { allowed: ["read", "admin"], default: ["read", "admin"] } })),
    );
    expect(d.allowed && d.grant).toMatchObject({
      scopes: ["read"],
      clamps: ["default scopes admin dropped by ClusterTokenPolicy/baseline"],
    });
  });

  it("applies guardrails only to namespaces their selector selects", () => {
    const set = policySet(
      clusterPolicy("prod-rails", { guardrails: { namespaceSelector: { matchLabels: { env: "prod" } }, maxTtlSeconds: 120 } }),
      tokenPolicy("p", { ttlSeconds: 900 }),
    );
    const inProd = run(set, subject({ namespaceLabels: { env: "prod" } }));
    const inDev = run(set, subject({ namespaceLabels: { env: "dev" } }));
    expect(inProd.allowed && inProd.grant.ttlSeconds).toBe(120);
    expect(inDev.allowed && inDev.grant.ttlSeconds).toBe(900);
  });

  it("does not bind ClusterTokenPolicies by guardrails", () => {
    const d = run(
      policySet(
        clusterPolicy("kube", {
          subjects: { namespaceSelector: {}, serviceAccounts: ["api"] },
          audiences: [KUBE],
          ttlSeconds: 900,
          claims: [{ name: "groups", expression: '["deployers"]' }],
          guardrails: { reservedAudiences: [KUBE], maxTtlSeconds: 300 },
          audienceOwnership: [{ audiences: [KUBE], ownedBy: "Cluster" }],
        }),
      ),
      subject(),
      request([KUBE]),
    );
    expect(d.allowed && d.grant).toMatchObject({ ttlSeconds: 900, claims: { groups: ["deployers"] } });
  });
});

describe("delegation", () => {
  const planner = saActor("agents", "planner");
  const delegating = tokenPolicy("p", {
    delegation: { actors: [{ serviceAccount: { namespace: "agents", name: "planner" } }, { subject: "user:alice" }], maxChainLength: 2 },
    claims: [{ name: "acting", expression: "actors.map(a, a.sub)" }],
  });

  it("allows a named actor and exposes the chain to claims", () => {
    const d = run(policySet(delegating), subject({ actors: [planner] }));
    expect(d.allowed && d.grant.claims).toEqual({ acting: ["system:serviceaccount:agents:planner"] });
  });

  it("allows a chain up to the policy's length when every actor is named", () => {
    const alice = { sub: "user:alice", iss: "https://tessera.example" };
    expect(run(policySet(delegating), subject({ actors: [planner, alice] })).allowed).toBe(true);
  });

  it("denies a chain that contains an actor the policy does not name, even behind a named one", () => {
    const mallory = { sub: "user:mallory", iss: "https://tessera.example" };
    expect(denial(run(policySet(delegating), subject({ actors: [planner, mallory] })))).toEqual([
      "DelegationNotAllowed",
      expect.stringContaining("'user:mallory'"),
    ]);
  });

  it("records each link of the chain and the rule that let it act, current actor first", () => {
    const alice = { sub: "user:alice", iss: "https://tessera.example" };
    expect(run(policySet(delegating), subject({ actors: [planner, alice] })).delegation).toEqual([
      { actor: "system:serviceaccount:agents:planner", allowedBy: "TokenPolicy/payments/p spec.delegation.actors[0] (service account agents/planner)" },
      { actor: "user:alice", allowedBy: "TokenPolicy/payments/p spec.delegation.actors[1] (subject user:alice)" },
    ]);
  });

  it.each([
    ["grants an actor a delegable scope", ["read"], "allowed"],
    ["refuses an actor a scope the policy keeps for the subject itself", ["write"], "DelegationNotAllowed"],
  ])("%s", (_name, scopes, expected) => {
    const narrowing = tokenPolicy("p", {
      scopes: { allowed: ["read", "write"] },
      delegation: { actors: [{ serviceAccount: { namespace: "agents", name: "planner" } }], maxChainLength: 1, scopes: ["read"] },
    });
    const d = run(policySet(narrowing), subject({ actors: [planner] }), request(undefined, scopes));
    expect(d.allowed ? "allowed" : d.reason).toBe(expected);
    // The subject itself keeps every scope its policy allows.
    expect(run(policySet(narrowing), subject(), request(undefined, scopes)).allowed).toBe(true);
  });

  it.each([
    ["an agent in a namespace the selector picks", "agents", { "tessera.dev/agents": "true" }, true],
    ["an agent in a namespace without the label", "agents", {}, false],
    ["an agent in a namespace whose labels are unknown", "elsewhere", undefined, false],
  ])("lets service accounts act by namespace selector: %s", (_name, namespace, labels, allowed) => {
    const bySelector = tokenPolicy("p", {
      delegation: { actors: [{ serviceAccounts: { namespaceSelector: { matchLabels: { "tessera.dev/agents": "true" } }, names: ["planner"] } }], maxChainLength: 1 },
    });
    const d = decide({
      subject: subject({ actors: [saActor(namespace, "planner")] }),
      request: request(),
      policies: policySet(bySelector),
      now: NOW,
      id: "d",
      namespaceLabels: (name) => (name === namespace ? labels : undefined),
    });
    expect(d.allowed ? "allowed" : d.reason).toBe(allowed ? "allowed" : "DelegationNotAllowed");
    if (d.allowed) expect(d.delegation?.[0]?.allowedBy).toContain("spec.delegation.actors[0] (service accounts planner in namespaces selected by labels)");
  });

  it("lets only the names listed act when a selector names them", () => {
    const bySelector = tokenPolicy("p", {
      delegation: { actors: [{ serviceAccounts: { namespaceSelector: {}, names: ["planner"] } }], maxChainLength: 1 },
    });
    const d = decide({ subject: subject({ actors: [saActor("agents", "intruder")] }), request: request(), policies: policySet(bySelector), now: NOW, id: "d", namespaceLabels: () => ({}) });
    expect(d.allowed ? "allowed" : d.reason).toBe("DelegationNotAllowed");
  });

  it.each([
    ["two kinds in one actor entry", [{ subject: "x", serviceAccounts: { namespaceSelector: {} } }], "spec.delegation.actors[0]"],
    ["a selector that does not compile", [{ serviceAccounts: { namespaceSelector: { matchExpressions: [{ key: "k", operator: "In" as const }] } } }], "spec.delegation.actors[0].serviceAccounts.namespaceSelector.matchExpressions[0].values"],
  ])("refuses to compile %s", (_name, actors, path) => {
    const result = compilePolicy(tokenPolicy("p", { delegation: { actors, maxChainLength: 1 } }));
    expect(result.ok ? [] : result.errors.map((e) => e.path)).toContain(path);
  });

  it("refuses to compile a delegable scope the policy does not allow", () => {
    const result = compilePolicy(tokenPolicy("p", { scopes: { allowed: ["read"] }, delegation: { actors: [{ subject: "x" }], maxChainLength: 1, scopes: ["admin"] } }));
    expect(result.ok ? [] : result.errors.map((e) => e.path)).toEqual(["spec.delegation.scopes[0]"]);
  });

  it("denies delegation entirely where the guardrail sets the chain length to zero", () => {
    const d = run(policySet(baseline({ maxDelegationChainLength: 0 }), delegating), subject({ actors: [planner] }));
    expect(denial(d)).toEqual(["DelegationChainTooLong", expect.stringContaining("exceeds 0")]);
  });
});

describe("explain", () => {
  it("gives the decision decide would make and the guardrails in force", () => {
    const set = policySet(baseline({ maxTtlSeconds: 300 }), tokenPolicy("p", { ttlSeconds: 900 }));
    const e = explain({ subject: subject(), request: request(), policies: set, now: NOW });
    expect(e.decision.allowed && e.decision.grant.ttlSeconds).toBe(300);
    expect(e.guardrails).toContain("maxTtlSeconds 300 (ClusterTokenPolicy/baseline)");
    expect(e.guardrails).toContain("reserved claim groups (Tessera (reserved for ClusterTokenPolicies))");
  });

  it("is a pure function of its inputs", () => {
    const set = PolicySet.from([compiled(tokenPolicy("p"))]);
    const input = { subject: subject(), request: request(), policies: set, now: NOW };
    expect(explain(input)).toEqual(explain(input));
  });
});
