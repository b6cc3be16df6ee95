// Property: no decision grants anything outside request ∧ policy ∧ guardrails, for random policies and requests.
//
// The oracle below recomputes the guardrails from the raw resources (not through the engine's combination)
// so a bug in the engine's own guardrail code cannot hide itself.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CLUSTER_RESERVED_CLAIMS, ISSUER_OWNED_CLAIMS, TESSERA_CLAIM_PREFIX } from "../../../api/constants.ts";
import type { AnyTokenPolicy, ClusterTokenPolicy, PolicyGuardrails, TokenPolicy } from "../../../api/token-policy.ts";
import { PolicySet, compilePolicy, decide, type CompiledPolicy } from "../../../controller/src/policy/index.ts";
import { NOW, request, saActor, subject } from "./fixtures.ts";

const AUDIENCES = ["https://a", "https://b", "https://c", "https://kubernetes.default.svc"];
const SCOPES = ["read", "write", "admin", "delete"];
/** Includes names no policy may set and names only cluster policies may set. */
const CLAIMS = ["tenant", "team", "org", "groups", "roles", "sub", "iss", `${TESSERA_CLAIM_PREFIX}pod`];
const ACTORS = [saActor("agents", "planner"), saActor("agents", "runner"), saActor("ci", "pipeline")];

const subset = <T>(values: readonly T[]) => fc.subarray([...values]);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const namespaceSelector = fc.constantFrom(undefined, { matchLabels: { env: "prod" } }, { matchLabels: { env: "dev" } });

const grantFields = fc.record({
  audiences: subset(AUDIENCES).filter((a) => a.length > 0),
  allowedScopes: subset(SCOPES),
  defaultPick: subset(SCOPES),
  ttlSeconds: maybe(fc.integer({ min: 60, max: 7200 })),
  claims: fc.subarray(CLAIMS, { maxLength: 2 }),
  delegation: maybe(fc.record({ actors: subset(ACTORS).filter((a) => a.length > 0), maxChainLength: fc.integer({ min: 1, max: 3 }) })),
  priority: fc.integer({ min: 0, max: 2 }),
});
type GrantFields = typeof grantFields extends fc.Arbitrary<infer T> ? T : never;

function specOf(g: GrantFields) {
  return {
    owner: { team: "t" },
    audiences: g.audiences,
    scopes: { allowed: g.allowedScopes, default: g.defaultPick.filter((s) => g.allowedScopes.includes(s)) },
    ...(g.ttlSeconds === undefined ? {} : { ttlSeconds: g.ttlSeconds }),
    claims: g.claims.map((name) => ({ name, expression: `"${name}-value"` })),
    ...(g.delegation === undefined
      ? {}
      : {
          delegation: {
            actors: g.delegation.actors.map((a) => ({ serviceAccount: a.serviceAccount ?? { namespace: "", name: "" } })),
            maxChainLength: g.delegation.maxChainLength,
          },
        }),
    priority: g.priority,
  };
}

const tokenPolicies = fc.array(grantFields, { maxLength: 4 }).map((gs) =>
  gs.map(
    (g, i): TokenPolicy => ({
      apiVersion: "tessera.dev/v1alpha1",
      kind: "TokenPolicy",
      metadata: { name: `tp-${i}`, namespace: "payments", generation: 1 },
      spec: { ...specOf(g), subjects: { serviceAccounts: ["api"] } },
    }),
  ),
);

const clusterGrants = fc.array(grantFields, { maxLength: 2 }).map((gs) =>
  gs.map(
    (g, i): ClusterTokenPolicy => ({
      apiVersion: "tessera.dev/v1alpha1",
      kind: "ClusterTokenPolicy",
      metadata: { name: `cg-${i}`, generation: 1 },
      spec: { ...specOf(g), subjects: { namespaceSelector: {} } },
    }),
  ),
);

const guardrailPolicies = fc
  .array(
    fc.record({
      namespaceSelector,
      maxTtlSeconds: maybe(fc.integer({ min: 60, max: 3600 })),
      allowedAudiences: maybe(subset(AUDIENCES.slice(0, 3))),
      reservedAudiences: maybe(subset(AUDIENCES.slice(2))),
      allowedScopes: maybe(subset(SCOPES)),
      allowedClaims: maybe(subset(CLAIMS.slice(0, 3))),
      reservedClaims: maybe(subset(CLAIMS.slice(0, 3))),
      maxDelegationChainLength: maybe(fc.integer({ min: 0, max: 3 })),
    }),
    { maxLength: 3 },
  )
  .map((rs) =>
    rs.map((r, i): ClusterTokenPolicy => {
      const guardrails = Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as PolicyGuardrails;
      return {
        apiVersion: "tessera.dev/v1alpha1",
        kind: "ClusterTokenPolicy",
        metadata: { name: `rails-${i}`, generation: 1 },
        spec: { owner: { team: "platform" }, guardrails },
      };
    }),
  );

const scenario = fc.record({
  policies: fc.tuple(tokenPolicies, clusterGrants, guardrailPolicies).map(([a, b, c]) => [...a, ...b, ...c]),
  env: fc.constantFrom("prod", "dev"),
  audiences: fc.subarray(AUDIENCES, { minLength: 1, maxLength: 2 }),
  scopes: fc.oneof(fc.constant([]), fc.subarray(SCOPES, { maxLength: 2 })),
  actors: fc.oneof(fc.constant([]), fc.array(fc.constantFrom(...ACTORS), { maxLength: 3 })),
});

/** Guardrails that apply to a namespace with label env=<env>, recomputed from the resources. */
function oracle(policies: readonly AnyTokenPolicy[], env: string) {
  const rails = policies
    .flatMap((p) => (p.kind === "ClusterTokenPolicy" && p.spec.guardrails !== undefined ? [p.spec.guardrails] : []))
    .filter((g) => g.namespaceSelector?.matchLabels === undefined || g.namespaceSelector.matchLabels["env"] === env);
  const inAll = (pick: (g: PolicyGuardrails) => readonly string[] | undefined, value: string) =>
    rails.every((g) => pick(g)?.includes(value) ?? true);
  return {
    maxTtl: Math.min(...rails.map((g) => g.maxTtlSeconds ?? Infinity)),
    maxChain: Math.min(...rails.map((g) => g.maxDelegationChainLength ?? Infinity)),
    audienceOk: (a: string) => inAll((g) => g.allowedAudiences, a) && !rails.some((g) => g.reservedAudiences?.includes(a)),
    scopeOk: (s: string) => inAll((g) => g.allowedScopes, s),
    claimOk: (c: string) =>
      inAll((g) => g.allowedClaims, c) &&
      !rails.some((g) => g.reservedClaims?.includes(c)) &&
      !(CLUSTER_RESERVED_CLAIMS as readonly string[]).includes(c),
  };
}

describe("decisions stay within request, policy and guardrails", () => {
  it("never grants outside request ∧ policy ∧ guardrails, nor an issuer-owned claim", () => {
    let allowedCount = 0;
    fc.assert(
      fc.property(scenario, (s) => {
        const compiled: CompiledPolicy[] = [];
        for (const p of s.policies) {
          const result = compilePolicy(p);
          if (result.ok) compiled.push(result.policy);
        }
        const set = PolicySet.from(compiled);
        const who = subject({ namespaceLabels: { env: s.env }, actors: s.actors });
        const req = request(s.audiences, s.scopes);
        const d = decide({ subject: who, request: req, policies: set, now: NOW, id: "p" });
        if (!d.allowed) {
          expect(d).not.toHaveProperty("grant");
          return;
        }
        allowedCount++;
        const policy = set.get(d.policy);
        expect(policy).toBeDefined();
        const spec = policy?.source.spec;
        if (spec === undefined) return;
        const namespaced = d.policy.kind === "TokenPolicy";
        const g = oracle(
          compiled.map((c) => c.source),
          s.env,
        );
        const policyAudiences = spec.audiences ?? [];
        const allowedScopes = spec.scopes?.allowed ?? [];
        const wanted = req.scopes.length > 0 ? req.scopes : (spec.scopes?.default ?? []);

        for (const a of d.grant.audiences) {
          expect(req.audiences).toContain(a);
          expect(policyAudiences).toContain(a);
          if (namespaced) expect(g.audienceOk(a)).toBe(true);
        }
        for (const scope of d.grant.scopes) {
          expect(wanted).toContain(scope);
          expect(allowedScopes).toContain(scope);
          if (namespaced) expect(g.scopeOk(scope)).toBe(true);
        }
        expect(d.grant.ttlSeconds).toBeLessThanOrEqual(spec.ttlSeconds ?? 600);
        if (namespaced) expect(d.grant.ttlSeconds).toBeLessThanOrEqual(g.maxTtl);
        for (const claim of Object.keys(d.grant.claims)) {
          expect((ISSUER_OWNED_CLAIMS as readonly string[]).includes(claim)).toBe(false);
          expect(claim.startsWith(TESSERA_CLAIM_PREFIX)).toBe(false);
          if (namespaced) expect(g.claimOk(claim)).toBe(true);
        }
        if (who.actors.length > 0) {
          expect(who.actors.length).toBeLessThanOrEqual(spec.delegation?.maxChainLength ?? 0);
          if (namespaced) expect(who.actors.length).toBeLessThanOrEqual(g.maxChain);
        }
      }),
      { numRuns: 500, seed: 20260102 },
    );
    // The generators must reach allowed decisions often enough for the property to mean something.
    expect(allowedCount).toBeGreaterThan(50);
    // 500 compiled policies and decisions: about a second alone, several on a shared, loaded machine.
  }, 60_000);
});
