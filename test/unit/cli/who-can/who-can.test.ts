// who-can: decided by the engine for every candidate account; pod conditions are reported as "if", never guessed.
import { describe, expect, it } from "vitest";
import { snapshotOf, type ClusterSnapshot } from "../../../../controller/src/cli/manifests/snapshot.ts";
import { describeSelector, labelsSelectedBy, readsPod } from "../../../../controller/src/cli/who-can/pod-conditions.ts";
import { whoCan, type WhoCanReport } from "../../../../controller/src/cli/who-can/who-can.ts";

const NOW = new Date("2026-01-01T00:00:00Z");
const AUDIENCE = "https://ledger.internal";

const ns = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels } });
const sa = (namespace: string, name: string) => ({ apiVersion: "v1", kind: "ServiceAccount", metadata: { namespace, name } });
const ownership = {
  apiVersion: "tessera.dev/v1alpha1",
  kind: "ClusterTokenPolicy",
  metadata: { name: "owners" },
  spec: {
    owner: { team: "platform" },
    audienceOwnership: [{ audiences: [AUDIENCE], ownedBy: "Namespaces", namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ledger" } } }],
  },
};
const contract = {
  apiVersion: "tessera.dev/v1alpha1",
  kind: "TokenAudience",
  metadata: { name: "ledger", namespace: "ledger" },
  spec: {
    audience: AUDIENCE,
    owner: { team: "ledger", contact: "#ledger" },
    scopes: [{ name: "read", description: "r" }, { name: "write", description: "w" }],
    callers: [
      { name: "shop", serviceAccounts: [{ namespace: "shop", name: "api" }, { namespace: "shop", name: "cron" }], scopes: ["read", "write"] },
      {
        name: "tier-one",
        namespaceSelector: { matchLabels: { tier: "one" } },
        conditions: [{ name: "backend-pods", expression: 'pod.labels["role"] == "backend"', message: "backend only" }],
        scopes: ["read"],
      },
    ],
  },
};
const shopPolicy = {
  apiVersion: "tessera.dev/v1alpha1",
  kind: "TokenPolicy",
  metadata: { name: "shop", namespace: "shop" },
  spec: {
    owner: { team: "shop" },
    subjects: { serviceAccounts: ["api", "cron"], podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["api", "cron"] }] } },
    audiences: [AUDIENCE],
    scopes: { allowed: ["read", "write"], default: ["read"] },
    conditions: [
      { name: "not-canary", expression: '!("canary" in pod.labels)', message: "no canaries" },
      { name: "prod", expression: 'cluster.environment == "production"', message: "production only" },
    ],
  },
};
const clusterGrant = {
  apiVersion: "tessera.dev/v1alpha1",
  kind: "ClusterTokenPolicy",
  metadata: { name: "tier-one-reads" },
  spec: {
    owner: { team: "platform" },
    subjects: { namespaceSelector: { matchLabels: { tier: "one" } } },
    audiences: [AUDIENCE],
    scopes: { allowed: ["read"], default: ["read"] },
  },
};
const squatter = {
  apiVersion: "tessera.dev/v1alpha1",
  kind: "TokenPolicy",
  metadata: { name: "reports", namespace: "analytics" },
  spec: { owner: { team: "analytics" }, subjects: { serviceAccounts: ["reports"] }, audiences: [AUDIENCE], scopes: { allowed: ["read"], default: ["read"] } },
};

function snapshot(...values: unknown[]): ClusterSnapshot {
  return snapshotOf(values.map((value, index) => ({ file: "m.yaml", index, value }))).snapshot;
}

const world = snapshot(
  ns("ledger"), ns("shop"), ns("orders", { tier: "one" }), ns("search", { tier: "one" }), ns("analytics"),
  sa("orders", "worker"), sa("shop", "api"),
  ownership, contract, shopPolicy, clusterGrant, squatter,
);

function answered(report: WhoCanReport): Extract<WhoCanReport, { ok: true }> {
  if (!report.ok) throw new Error(report.message);
  return report;
}

describe("whoCan", () => {
  const production = { name: "c", environment: "production" };

  it("lists each account with its policy, its owner, and the pod conditions as 'if', deciding the rest", () => {
    const report = answered(whoCan(world, { audience: AUDIENCE, cluster: production }, NOW));
    expect(report.grants.map((g) => [g.serviceAccount, g.policy, g.owner, g.scopes, g.conditions])).toEqual([
      ["orders/*", "ClusterTokenPolicy/tier-one-reads", "TokenAudience/ledger/ledger (callers tier-one)", ["read"],
        ['TokenAudience/ledger/ledger caller tier-one: backend-pods: pod.labels["role"] == "backend"']],
      ["orders/worker", "ClusterTokenPolicy/tier-one-reads", "TokenAudience/ledger/ledger (callers tier-one)", ["read"],
        ['TokenAudience/ledger/ledger caller tier-one: backend-pods: pod.labels["role"] == "backend"']],
      ["search/*", "ClusterTokenPolicy/tier-one-reads", "TokenAudience/ledger/ledger (callers tier-one)", ["read"],
        ['TokenAudience/ledger/ledger caller tier-one: backend-pods: pod.labels["role"] == "backend"']],
      ["shop/api", "TokenPolicy/shop/shop", "TokenAudience/ledger/ledger (callers shop)", ["read"],
        ["pod labels app in (api, cron)", 'not-canary: !("canary" in pod.labels)']],
      ["shop/cron", "TokenPolicy/shop/shop", "TokenAudience/ledger/ledger (callers shop)", ["read"],
        ["pod labels app in (api, cron)", 'not-canary: !("canary" in pod.labels)']],
    ]);
  });

  it("lists an account the owner's contract does not admit as refused, with the reason and the party", () => {
    const report = answered(whoCan(world, { audience: AUDIENCE, cluster: production }, NOW));
    expect(report.refused).toEqual([
      expect.objectContaining({ serviceAccount: "analytics/reports", reason: "AudienceOwnerDenied", deniedBy: "owner", policy: "TokenPolicy/analytics/reports" }),
    ]);
    expect(report.refused[0]?.message).toContain("#ledger");
  });

  it("decides conditions that do not read the pod: outside production the shop's accounts are refused", () => {
    const report = answered(whoCan(world, { audience: AUDIENCE, cluster: { name: "c", environment: "staging" } }, NOW));
    expect(report.grants.map((g) => g.serviceAccount)).not.toContain("shop/api");
    expect(report.refused).toContainEqual(expect.objectContaining({ serviceAccount: "shop/api", reason: "ConditionFailed", deniedBy: "caller" }));
  });

  it("answers for one scope: only the accounts that may hold it", () => {
    const report = answered(whoCan(world, { audience: AUDIENCE, scope: "write", cluster: production }, NOW));
    expect(report.grants.map((g) => [g.serviceAccount, g.scopes])).toEqual([["shop/api", ["write"]], ["shop/cron", ["write"]]]);
    expect(report.refused.map((r) => [r.serviceAccount, r.reason])).toContainEqual(["orders/worker", "ScopeNotAllowed"]);
  });

  it("finds nobody for an audience no policy grants, and accepts it spelt another way", () => {
    expect(answered(whoCan(world, { audience: "https://nobody.internal" }, NOW)).grants).toEqual([]);
    expect(answered(whoCan(world, { audience: "HTTPS://LEDGER.internal/", cluster: production }, NOW)).audience).toBe(AUDIENCE);
  });

  it("refuses an audience that is not one", () => {
    expect(whoCan(world, { audience: "https://a b" }, NOW)).toMatchObject({ ok: false });
  });

  it("reports a policy that does not compile as a problem; it grants nothing", () => {
    const broken = { ...shopPolicy, metadata: { name: "broken", namespace: "shop" }, spec: { ...shopPolicy.spec, priority: 1, claims: [{ name: "x", expression: "nope." }] } };
    const report = answered(whoCan(snapshot(ns("ledger"), ns("shop"), ownership, contract, broken), { audience: AUDIENCE, cluster: production }, NOW));
    expect(report.problems.map((p) => p.file)).toEqual(["TokenPolicy/shop/broken"]);
    expect(report.grants).toEqual([]);
  });
});

describe("pod conditions", () => {
  it.each([
    { expression: 'pod.labels["a"] == "b"', reads: true },
    { expression: "has(pod.owner)", reads: true },
    { expression: 'namespace.labels["pod"] == "x"', reads: false },
    { expression: "podCount > 1", reads: false },
    { expression: "request.pod == 1", reads: false },
    { expression: "size(pod.name) > 0", reads: true },
  ])("'$expression' reads the pod: $reads", ({ expression, reads }) => {
    expect(readsPod(expression)).toBe(reads);
  });

  it.each([
    { name: "matchLabels as they are", selector: { matchLabels: { app: "web" } }, labels: { app: "web" }, text: "app=web" },
    { name: "In takes its first value", selector: { matchExpressions: [{ key: "t", operator: "In" as const, values: ["a", "b"] }] }, labels: { t: "a" }, text: "t in (a, b)" },
    { name: "Exists takes an empty value", selector: { matchExpressions: [{ key: "u", operator: "Exists" as const }] }, labels: { u: "" }, text: "u" },
    { name: "NotIn and DoesNotExist leave the key out", selector: { matchExpressions: [{ key: "c", operator: "NotIn" as const, values: ["x"] }, { key: "d", operator: "DoesNotExist" as const }] }, labels: {}, text: "c notin (x),!d" },
  ])("a pod selector: $name", ({ selector, labels, text }) => {
    expect(labelsSelectedBy(selector)).toEqual(labels);
    expect(describeSelector(selector)).toBe(text);
  });
});
