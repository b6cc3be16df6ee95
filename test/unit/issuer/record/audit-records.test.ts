// What audit mode leaves behind for each decision: the record's audit list, the metric, the status tally, explain.
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { auditRecorder } from "../../../../controller/src/app/engine-adapters.ts";
import { explainDecision } from "../../../../controller/src/issuer/explain/explainer.ts";
import { formatExplainReport } from "../../../../controller/src/issuer/explain/format.ts";
import { IssuerMetrics, OTHER_POLICY } from "../../../../controller/src/issuer/metrics.ts";
import { decisionRecord } from "../../../../controller/src/issuer/record/decision-log.ts";
import type { AuditChange } from "../../../../controller/src/reconcile/audit-tracker.ts";
import type { AllowedDecision, AuditRecord } from "../../../../controller/src/policy/types.ts";
import { allowed } from "../decision-fixtures.ts";

const railsDenied: AuditRecord = {
  rule: { kind: "ClusterTokenPolicy", name: "reserve-ledger", generation: 2, rule: "spec" },
  wouldHave: "denied",
  reason: "GuardrailViolation",
  message: "TokenPolicy/payments/ledger may not grant: audience 'https://ledger.example' is reserved",
};
const conditionUnchanged: AuditRecord = {
  rule: { kind: "TokenPolicy", namespace: "payments", name: "ledger", generation: 3, rule: "spec.conditions[tenant]" },
  wouldHave: "unchanged",
};
const contractClamped: AuditRecord = {
  rule: { kind: "TokenAudience", namespace: "ledger", name: "ledger-api", generation: 1, rule: "spec" },
  wouldHave: "clamped",
  reason: "Clamped",
  message: "ttl clamped from 900s to 300s by TokenAudience ledger/ledger-api",
};
const audited: AllowedDecision = { ...allowed, audit: [railsDenied, conditionUnchanged, contractClamped] };

async function values(registry: Registry, name: string): Promise<{ labels: Record<string, string | number>; value: number }[]> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  return (await metric.get()).values.map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value }));
}

describe("audit records", () => {
  it("the decision record lists every audited rule with what it would have done", () => {
    expect(decisionRecord(audited, { jti: "j" })["audit"]).toEqual([
      { rule: "ClusterTokenPolicy/reserve-ledger", generation: 2, wouldHave: "denied", reason: "GuardrailViolation", message: railsDenied.message },
      { rule: "TokenPolicy/payments/ledger spec.conditions[tenant]", generation: 3, wouldHave: "unchanged" },
      { rule: "TokenAudience/ledger/ledger-api", generation: 1, wouldHave: "clamped", reason: "Clamped", message: contractClamped.message },
    ]);
    expect(decisionRecord(allowed, { jti: "j" })).not.toHaveProperty("audit");
  });

  it("the metric counts would-be changes by resource and effect, not unchanged ones, with a bounded resource label", async () => {
    const registry = new Registry();
    const metrics = new IssuerMetrics({ registry, maxPolicies: 1 });
    metrics.record(audited);
    metrics.record(audited);
    expect(await values(registry, "tessera_audit_would_change_total")).toEqual([
      { labels: { kind: "ClusterTokenPolicy", namespace: "", name: "reserve-ledger", effect: "denied" }, value: 2 },
      { labels: { kind: "TokenAudience", namespace: OTHER_POLICY, name: OTHER_POLICY, effect: "clamped" }, value: 2 },
    ]);
  });

  it("the status tally receives who asked for what for each would-be change, never a token", () => {
    const changes: AuditChange[] = [];
    auditRecorder({ record: (change) => changes.push(change) }).record(audited, { jti: "j" });
    expect(changes).toEqual([
      {
        resource: { kind: "ClusterTokenPolicy", name: "reserve-ledger" },
        generation: 2,
        example: {
          time: "2026-11-23T01:00:00.000Z",
          rule: "spec",
          wouldHave: "denied",
          reason: "GuardrailViolation",
          subject: "payments/api (pod api-7d9f)",
          audiences: ["https://ledger.example"],
          scopes: ["ledger.read"],
          message: railsDenied.message,
        },
      },
      expect.objectContaining({ resource: { kind: "TokenAudience", namespace: "ledger", name: "ledger-api" }, generation: 1 }),
    ]);
  });

  it("explain shows each audited rule and its would-be outcome next to the decision made without it", () => {
    const request = explainDecision(audited, "https://issuer.example", [], ["maxTtlSeconds 300 (ClusterTokenPolicy/short-ttl)"]);
    const text = formatExplainReport({ pod: { namespace: "payments", name: "api-7d9f", uid: "u", serviceAccount: "api" }, at: allowed.at, requests: [request] });
    expect(text).toContain("Audited guardrails  maxTtlSeconds 300 (ClusterTokenPolicy/short-ttl)");
    expect(text).toContain("Audited             ClusterTokenPolicy/reserve-ledger (gen 2): would have denied (GuardrailViolation): TokenPolicy/payments/ledger may not grant");
    expect(text).toContain("Audited             TokenPolicy/payments/ledger spec.conditions[tenant] (gen 3): would not change this decision");
  });
});
