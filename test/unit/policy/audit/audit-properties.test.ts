// Properties of audit mode over random policies, guardrails, contracts and requests, each rule audited at random:
// the decision is exactly the one made without the audited rules (so audit never grants more), and each audit
// record says what switching that one rule to Enforce does to the same request.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { TokenAudience } from "../../../../api/token-audience.ts";
import type { AnyTokenPolicy, ClusterTokenPolicy, Enforcement, PolicyCondition, TokenPolicy } from "../../../../api/token-policy.ts";
import { compileContract } from "../../../../controller/src/policy/audience/contract.ts";
import { PolicySet, compilePolicy, decide, memoizedExpressions, type Decision } from "../../../../controller/src/policy/index.ts";
import type { AuditRecord } from "../../../../controller/src/policy/types.ts";
import { NOW, request, subject } from "../fixtures.ts";

const AUDIENCES = ["https://a", "https://b"];
const SCOPES = ["read", "write", "admin"];
const CONDITIONS: readonly Omit<PolicyCondition, "name">[] = [
  { expression: "true", message: "always" },
  { expression: "false", message: "never" },
  { expression: 'namespace.labels["env"] == "prod"', message: "prod only" },
  { expression: "size(request.scopes) < 2", message: "one scope at most" },
];
const LABELS: Readonly<Record<string, Record<string, string>>> = { orders: { team: "orders" } };

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const enforcement = fc.oneof(
  { arbitrary: fc.constant<Enforcement | undefined>(undefined), weight: 2 },
  { arbitrary: fc.constant<Enforcement>("Audit"), weight: 1 },
);
const conditions = fc.array(fc.record({ pick: fc.nat(CONDITIONS.length - 1), enforcement }), { maxLength: 2 }).map((cs) =>
  cs.map((c, i): PolicyCondition => ({ name: `c${i}`, ...(CONDITIONS[c.pick] ?? { expression: "true", message: "m" }), ...(c.enforcement === undefined ? {} : { enforcement: c.enforcement }) })),
);
const grant = fc.record({
  audiences: fc.subarray(AUDIENCES, { minLength: 1 }),
  allowed: fc.subarray(SCOPES),
  defaults: fc.subarray(SCOPES),
  ttlSeconds: maybe(fc.integer({ min: 60, max: 3600 })),
  priority: fc.integer({ min: 0, max: 1 }),
  conditions,
  enforcement,
});
type Grant = typeof grant extends fc.Arbitrary<infer T> ? T : never;
const grantSpec = (g: Grant) => ({
  owner: { team: "t" },
  audiences: g.audiences,
  scopes: { allowed: g.allowed, default: g.defaults.filter((s) => g.allowed.includes(s)) },
  ...(g.ttlSeconds === undefined ? {} : { ttlSeconds: g.ttlSeconds }),
  priority: g.priority,
  conditions: g.conditions,
  ...(g.enforcement === undefined ? {} : { enforcement: g.enforcement }),
});

const tokenPolicies = fc.array(grant, { maxLength: 3 }).map((gs) =>
  gs.map((g, i): TokenPolicy => ({
    apiVersion: "tessera.dev/v1alpha1",
    kind: "TokenPolicy",
    metadata: { name: `tp-${i}`, namespace: "payments", generation: 1 },
    spec: { ...grantSpec(g), subjects: { serviceAccounts: ["api"] } },
  })),
);
const clusterGrants = fc.array(fc.record({ g: grant, allowTokenPolicies: fc.boolean() }), { maxLength: 2 }).map((gs) =>
  gs.map(({ g, allowTokenPolicies }, i): ClusterTokenPolicy => ({
    apiVersion: "tessera.dev/v1alpha1",
    kind: "ClusterTokenPolicy",
    metadata: { name: `cg-${i}`, generation: 1 },
    spec: { ...grantSpec(g), subjects: { namespaceSelector: {} }, allowTokenPolicies },
  })),
);
const guardrails = fc
  .array(
    fc.record({
      maxTtlSeconds: maybe(fc.integer({ min: 60, max: 3600 })),
      allowedScopes: maybe(fc.subarray(SCOPES)),
      reservedAudiences: maybe(fc.subarray(AUDIENCES, { minLength: 1 })),
      env: fc.constantFrom(undefined, "prod", "dev"),
      enforcement,
    }),
    { maxLength: 3 },
  )
  .map((rs) =>
    rs
      .filter((r) => r.maxTtlSeconds !== undefined || r.allowedScopes !== undefined || r.reservedAudiences !== undefined)
      .map((r, i): ClusterTokenPolicy => ({
        apiVersion: "tessera.dev/v1alpha1",
        kind: "ClusterTokenPolicy",
        metadata: { name: `rails-${i}`, generation: 1 },
        spec: {
          owner: { team: "platform" },
          guardrails: {
            ...(r.env === undefined ? {} : { namespaceSelector: { matchLabels: { env: r.env } } }),
            ...(r.maxTtlSeconds === undefined ? {} : { maxTtlSeconds: r.maxTtlSeconds }),
            ...(r.allowedScopes === undefined ? {} : { allowedScopes: r.allowedScopes }),
            ...(r.reservedAudiences === undefined ? {} : { reservedAudiences: r.reservedAudiences }),
          },
          ...(r.enforcement === undefined ? {} : { enforcement: r.enforcement }),
        },
      })),
  );
/** https://a is open; https://b belongs to namespace orders, whose contracts decide. */
const OWNERS: ClusterTokenPolicy = {
  apiVersion: "tessera.dev/v1alpha1",
  kind: "ClusterTokenPolicy",
  metadata: { name: "owners", generation: 1 },
  spec: {
    owner: { team: "platform" },
    audienceOwnership: [
      { audiences: ["https://a"], ownedBy: "Open" },
      { audiences: ["https://b"], ownedBy: "Namespaces", namespaceSelector: { matchLabels: { team: "orders" } } },
    ],
  },
};
const contracts = fc
  .array(
    fc.record({
      defined: fc.subarray(SCOPES),
      pick: fc.subarray(SCOPES),
      maxTtlSeconds: maybe(fc.integer({ min: 60, max: 3600 })),
      conditions,
      enforcement,
    }),
    { maxLength: 2 },
  )
  .map((cs) =>
    cs.map((c, i): TokenAudience => ({
      apiVersion: "tessera.dev/v1alpha1",
      kind: "TokenAudience",
      metadata: { name: `b-${i}`, namespace: "orders", generation: 1 },
      spec: {
        audience: "https://b",
        owner: { team: "orders" },
        scopes: c.defined.map((name) => ({ name, description: `lets the holder ${name}` })),
        callers: [{ name: "payments", namespaceSelector: {}, conditions: c.conditions, scopes: c.pick.filter((s) => c.defined.includes(s)) }],
        ...(c.maxTtlSeconds === undefined ? {} : { maxTtlSeconds: c.maxTtlSeconds }),
        ...(c.enforcement === undefined ? {} : { enforcement: c.enforcement }),
      },
    })),
  );

const scenario = fc.record({
  policies: fc.tuple(tokenPolicies, clusterGrants, guardrails).map(([a, b, c]) => [...a, ...b, ...c, OWNERS]),
  contracts,
  env: fc.constantFrom("prod", "dev"),
  audiences: fc.subarray(AUDIENCES, { minLength: 1 }),
  scopes: fc.oneof(fc.constant([]), fc.subarray(SCOPES, { maxLength: 2 })),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;
type Resource = AnyTokenPolicy | TokenAudience;

/** The few expressions above compile once, so runs spend their time deciding. */
const expressions = memoizedExpressions();

function decideIn(s: Scenario, policies: readonly AnyTokenPolicy[], contractList: readonly TokenAudience[]): Decision {
  const compiledPolicies = policies.map((p) => {
    const r = compilePolicy(p, { expressions });
    if (!r.ok) throw new Error(`${p.metadata.name}: ${JSON.stringify(r.errors)}`);
    return r.policy;
  });
  const compiledContracts = contractList.map((c) => {
    const r = compileContract(c, expressions);
    if (!r.ok) throw new Error(`${c.metadata.name}: ${JSON.stringify(r.errors)}`);
    return r.contract;
  });
  return decide({
    subject: subject({ namespaceLabels: { env: s.env } }),
    request: request(s.audiences, s.scopes),
    policies: PolicySet.from(compiledPolicies, [], compiledContracts),
    now: NOW,
    id: "p",
    namespaceLabels: (ns) => (ns === "payments" ? { env: s.env } : LABELS[ns]),
  });
}

const isAudited = (r: Resource) => (r.spec as { enforcement?: string }).enforcement === "Audit";

/** The resources with every audited rule removed: audited resources dropped, audited conditions deleted. */
function withoutAudited<T extends Resource>(resources: readonly T[]): T[] {
  return resources.filter((r) => !isAudited(r)).map((r) => mapConditions(r, (cs) => cs.filter((c) => c.enforcement !== "Audit")));
}

function mapConditions<T extends Resource>(r: T, f: (cs: readonly PolicyCondition[]) => readonly PolicyCondition[]): T {
  if (r.kind === "TokenAudience") {
    return { ...r, spec: { ...r.spec, callers: r.spec.callers.map((c) => ({ ...c, conditions: f(c.conditions ?? []) })) } };
  }
  return r.spec.conditions === undefined ? r : ({ ...r, spec: { ...r.spec, conditions: f(r.spec.conditions) } });
}

/** The resources with the one rule a record names switched to Enforce (the one field a person would change). */
function enforcing<T extends Resource>(resources: readonly T[], record: AuditRecord): T[] {
  const { kind, namespace, name, rule } = record.rule;
  return resources.map((r) => {
    if (r.kind !== kind || r.metadata.name !== name || (r.metadata.namespace ?? undefined) !== namespace) return r;
    if (rule === "spec") return { ...r, spec: { ...r.spec, enforcement: "Enforce" } };
    const conditionName = /conditions\[([^\]]+)\]$/.exec(rule)?.[1];
    return mapConditions(r, (cs) => cs.map((c) => (c.name === conditionName ? { ...c, enforcement: "Enforce" as const } : c)));
  });
}

/** What is issued: a grant under a policy, or nothing (audit is about what is issued, not which denial says so). */
/** Each property decides a few thousand times; the shared CI machine must not turn that into a timeout. */
const PROPERTY_TIMEOUT_MS = 60_000;

const summary = (d: Decision) => (d.allowed ? { allowed: true, policy: d.policy.name, grant: d.grant } : { allowed: false });

describe("audit mode", () => {
  it("decides exactly as if the audited rules did not exist, so it never grants more than enforcing without them", () => {
    let audits = 0;
    fc.assert(
      fc.property(scenario, (s) => {
        const withAudit = decideIn(s, s.policies, s.contracts);
        const without = decideIn(s, withoutAudited(s.policies), withoutAudited(s.contracts));
        const { audit, ...decision } = withAudit;
        if (audit !== undefined) audits += audit.length;
        expect(decision).toEqual(without);
        if (withAudit.allowed) {
          expect(without.allowed).toBe(true);
          if (without.allowed) expect(withAudit.grant).toEqual(without.grant);
        }
      }),
      { numRuns: 400, seed: 20261203 },
    );
    expect(audits).toBeGreaterThan(50);
  }, PROPERTY_TIMEOUT_MS);

  it("records for each audited rule exactly what switching it alone to Enforce does to the request", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(scenario, (s) => {
        const now = decideIn(s, s.policies, s.contracts);
        for (const record of now.audit ?? []) {
          if (record.wouldHave === "unevaluated") continue;
          const after = decideIn(s, enforcing(s.policies, record), enforcing(s.contracts, record));
          seen.add(record.wouldHave);
          switch (record.wouldHave) {
            case "unchanged":
              expect(after.allowed).toBe(now.allowed);
              if (after.allowed && now.allowed) expect(after.grant).toEqual(now.grant);
              break;
            case "denied":
              expect(now.allowed).toBe(true);
              expect(after.allowed ? undefined : after.reason).toBe(record.reason);
              break;
            case "clamped":
              expect(now.allowed && after.allowed).toBe(true);
              if (now.allowed && after.allowed) {
                expect(after.grant.ttlSeconds).toBeLessThanOrEqual(now.grant.ttlSeconds);
                for (const scope of after.grant.scopes) expect(now.grant.scopes).toContain(scope);
              }
              break;
            case "granted":
              expect(after.allowed).toBe(true);
              expect(summary(after)).not.toEqual(summary(now));
              break;
          }
        }
      }),
      { numRuns: 800, seed: 20261203 },
    );
    expect([...seen].sort()).toEqual(["clamped", "denied", "granted", "unchanged"]);
  }, PROPERTY_TIMEOUT_MS);

  it("leaves out only rules whose enforcement would change nothing for the request", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const now = decideIn(s, s.policies, s.contracts);
        const recorded = new Set((now.audit ?? []).map((a) => `${a.rule.kind}/${a.rule.namespace ?? ""}/${a.rule.name}/${a.rule.rule}`));
        const resources: Resource[] = [...s.policies, ...s.contracts];
        for (const r of resources.filter(isAudited)) {
          const key = `${r.kind}/${r.metadata.namespace ?? ""}/${r.metadata.name}/spec`;
          if (recorded.has(key)) continue;
          const rule: AuditRecord = { rule: { kind: r.kind, ...(r.metadata.namespace === undefined ? {} : { namespace: r.metadata.namespace }), name: r.metadata.name, generation: 1, rule: "spec" }, wouldHave: "unchanged" };
          const after = decideIn(s, enforcing(s.policies, rule), enforcing(s.contracts, rule));
          expect(summary(after)).toEqual(summary(now));
        }
      }),
      { numRuns: 300, seed: 20261203 },
    );
  }, PROPERTY_TIMEOUT_MS);
});
