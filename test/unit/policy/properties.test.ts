// Property: no decision grants anything outside request ∧ caller policy ∧ audience contract ∧ guardrails, for
// random policies, ownership rules, contracts and requests.
//
// The oracles below recompute the guardrails and each audience's owner from the raw resources (not through the
// engine's combination or resolution) so a bug in the engine's own code cannot hide itself.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CLUSTER_RESERVED_CLAIMS, ISSUER_OWNED_CLAIMS, TESSERA_CLAIM_PREFIX } from "../../../api/constants.ts";
import type { TokenAudience } from "../../../api/token-audience.ts";
import type { AnyTokenPolicy, AudienceOwnershipRule, ClusterTokenPolicy, PolicyGuardrails, TokenPolicy } from "../../../api/token-policy.ts";
import { compileContract, type CompiledContract } from "../../../controller/src/policy/audience/contract.ts";
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

/** Namespaces and their labels; the subject lives in payments, whose env label the scenario picks. */
const OTHER_NAMESPACES: Readonly<Record<string, Record<string, string>>> = { orders: { env: "prod", team: "orders" }, default: {} };

/** For each audience: nobody, Open, Cluster, or namespaces by selector; Open is likeliest so grants stay common. */
const ownershipRule = (audience: string) =>
  fc.oneof(
    { arbitrary: fc.constant<AudienceOwnershipRule | undefined>(undefined), weight: 1 },
    { arbitrary: fc.constant<AudienceOwnershipRule>({ audiences: [audience], ownedBy: "Open" }), weight: 4 },
    { arbitrary: fc.constant<AudienceOwnershipRule>({ audiences: [audience], ownedBy: "Cluster" }), weight: 1 },
    {
      arbitrary: fc.constantFrom<AudienceOwnershipRule>(
        { audiences: [audience], ownedBy: "Namespaces", namespaceSelector: { matchLabels: { team: "orders" } } },
        { audiences: [audience], ownedBy: "Namespaces", namespaceSelector: {} },
      ),
      weight: 3,
    },
  );

const ownershipPolicy = fc.tuple(...AUDIENCES.map(ownershipRule)).map(
  (rules): ClusterTokenPolicy => ({
    apiVersion: "tessera.dev/v1alpha1",
    kind: "ClusterTokenPolicy",
    metadata: { name: "owners", generation: 1 },
    spec: { owner: { team: "platform" }, audienceOwnership: rules.filter((r) => r !== undefined) },
  }),
);

const contractFields = fc.record({
  audience: fc.constantFrom(...AUDIENCES),
  namespace: fc.constantFrom("orders", "orders", "default", "payments"),
  defined: subset(SCOPES),
  callers: fc.array(
    fc.record({
      who: fc.constantFrom<"sa" | "prod" | "all" | "stranger">("sa", "sa", "prod", "all", "all", "stranger"),
      pick: subset(SCOPES),
    }),
    { minLength: 1, maxLength: 2 },
  ),
  maxTtlSeconds: maybe(fc.integer({ min: 60, max: 3600 })),
  requiredClaims: fc.oneof({ arbitrary: fc.constant([]), weight: 4 }, { arbitrary: fc.subarray(["tenant", "team"], { maxLength: 1 }), weight: 1 }),
});

const contracts = fc.array(contractFields, { maxLength: 4 }).map((cs) =>
  cs.map(
    (c, i): TokenAudience => ({
      apiVersion: "tessera.dev/v1alpha1",
      kind: "TokenAudience",
      metadata: { name: `aud-${i}`, namespace: c.namespace, generation: 1 },
      spec: {
        audience: c.audience,
        owner: { team: c.namespace, contact: `#${c.namespace}` },
        scopes: c.defined.map((name) => ({ name, description: `lets the holder ${name}` })),
        callers: c.callers.map((caller, j) => ({
          name: `c${j}`,
          ...(caller.who === "sa" ? { serviceAccounts: [{ namespace: "payments", name: "api" }] } : {}),
          ...(caller.who === "stranger" ? { serviceAccounts: [{ namespace: "payments", name: "other" }] } : {}),
          ...(caller.who === "prod" ? { namespaceSelector: { matchLabels: { env: "prod" } } } : {}),
          ...(caller.who === "all" ? { namespaceSelector: {} } : {}),
          scopes: caller.pick.filter((scope) => c.defined.includes(scope)),
        })),
        ...(c.maxTtlSeconds === undefined ? {} : { maxTtlSeconds: c.maxTtlSeconds }),
        requiredClaims: c.requiredClaims,
      },
    }),
  ),
);

const scenario = fc.record({
  policies: fc
    .tuple(tokenPolicies, clusterGrants, guardrailPolicies, ownershipPolicy)
    .map(([a, b, c, d]) => [...a, ...b, ...c, d]),
  contracts,
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

/** Who owns an audience, recomputed from the raw resources: the contract that decides, "cluster", "open" or none. */
function ownerOracle(
  policies: readonly AnyTokenPolicy[],
  contractList: readonly CompiledContract[],
  audience: string,
  labelsOf: (ns: string) => Record<string, string> | undefined,
): CompiledContract | "cluster" | "open" | undefined {
  const rule = policies
    .flatMap((p) => (p.kind === "ClusterTokenPolicy" ? (p.spec.audienceOwnership ?? []) : []))
    .find((r) => r.audiences?.includes(audience) === true);
  const claimedIn = (ok: (ns: string) => boolean) => contractList.filter((c) => c.audience === audience && ok(c.ref.namespace));
  let candidates: CompiledContract[];
  if (rule === undefined) {
    // The only Service URL among the audiences belongs to namespace default.
    if (audience !== "https://kubernetes.default.svc") return undefined;
    candidates = claimedIn((ns) => ns === "default");
  } else if (rule.ownedBy === "Open") {
    return "open";
  } else if (rule.ownedBy === "Cluster") {
    return "cluster";
  } else {
    const wanted = rule.namespaceSelector?.matchLabels ?? {};
    candidates = claimedIn((ns) => Object.entries(wanted).every(([k, v]) => labelsOf(ns)?.[k] === v));
  }
  return candidates.length === 1 ? candidates[0] : undefined;
}

describe("decisions stay within request, caller policy, audience contract and guardrails", () => {
  it("never grants outside request ∧ policy ∧ contract ∧ guardrails, nor an issuer-owned claim", () => {
    let allowedCount = 0;
    let ownedGrants = 0;
    fc.assert(
      fc.property(scenario, (s) => {
        const compiled: CompiledPolicy[] = [];
        for (const p of s.policies) {
          const result = compilePolicy(p);
          if (result.ok) compiled.push(result.policy);
        }
        const contractList: CompiledContract[] = [];
        for (const c of s.contracts) {
          const result = compileContract(c);
          if (result.ok) contractList.push(result.contract);
        }
        const set = PolicySet.from(compiled, [], contractList);
        const who = subject({ namespaceLabels: { env: s.env }, actors: s.actors });
        const labelsOf = (ns: string) => (ns === "payments" ? { env: s.env } : OTHER_NAMESPACES[ns]);
        const req = request(s.audiences, s.scopes);
        const d = decide({ subject: who, request: req, policies: set, now: NOW, id: "p", namespaceLabels: labelsOf });
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
        // The owner's side: every audience has an owner, and each contract admits the caller for every scope.
        for (const a of d.grant.audiences) {
          const owner = ownerOracle(compiled.map((c) => c.source), contractList, a, labelsOf);
          expect(owner).toBeDefined();
          if (owner === "cluster") expect(namespaced).toBe(false);
          if (owner === undefined || owner === "cluster" || owner === "open") continue;
          ownedGrants++;
          const admitting = owner.callers.filter(
            (c) =>
              (c.serviceAccounts === undefined || c.serviceAccounts.has("payments/api")) &&
              (c.namespaceSelector === undefined || c.namespaceSelector.matches({ env: s.env })),
          );
          expect(admitting.length).toBeGreaterThan(0);
          for (const scope of d.grant.scopes) {
            expect(owner.scopes.has(scope)).toBe(true);
            expect(admitting.some((c) => c.scopes.has(scope))).toBe(true);
          }
          expect(d.grant.ttlSeconds).toBeLessThanOrEqual(owner.maxTtlSeconds ?? Infinity);
          for (const claim of owner.requiredClaims) expect(Object.hasOwn(d.grant.claims, claim)).toBe(true);
        }
      }),
      { numRuns: 500, seed: 20260102 },
    );
    // The generators must reach allowed decisions often enough for the property to mean something.
    expect(allowedCount).toBeGreaterThan(50);
    expect(ownedGrants).toBeGreaterThan(5);
    // 500 compiled policies and decisions: about a second alone, several on a shared, loaded machine.
  }, 60_000);
});
