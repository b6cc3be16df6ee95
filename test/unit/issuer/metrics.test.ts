// Issuer metrics: counts by policy and reason on an injected registry, with a bounded policy label.

import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { IssuerMetrics, NO_POLICY, OTHER_POLICY } from "../../../controller/src/issuer/metrics.ts";
import { allowed, denied } from "./decision-fixtures.ts";

async function values(registry: Registry, name: string): Promise<{ labels: Record<string, string | number>; value: number }[]> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const got = await metric.get();
  return got.values.map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value }));
}

describe("issuer metrics", () => {
  it("counts an allowed decision as issued under its policy", async () => {
    const registry = new Registry();
    const metrics = new IssuerMetrics({ registry });
    metrics.record(allowed);
    metrics.record(allowed);
    expect(await values(registry, "tessera_tokens_issued_total")).toEqual([
      { labels: { policy: "TokenPolicy/payments/ledger" }, value: 2 },
    ]);
  });

  it("counts denials by policy and reason, with 'none' when no policy was chosen", async () => {
    const registry = new Registry();
    const metrics = new IssuerMetrics({ registry });
    metrics.record(denied);
    const { policy: _policy, ...withoutPolicy } = denied;
    metrics.record({ ...withoutPolicy, reason: "NoMatchingPolicy" });
    expect(await values(registry, "tessera_tokens_denied_total")).toEqual([
      { labels: { policy: "TokenPolicy/payments/ledger", reason: "ScopeNotAllowed" }, value: 1 },
      { labels: { policy: NO_POLICY, reason: "NoMatchingPolicy" }, value: 1 },
    ]);
  });

  it("folds policies beyond the bound into 'other'", async () => {
    const registry = new Registry();
    const metrics = new IssuerMetrics({ registry, maxPolicies: 1 });
    metrics.record(allowed);
    metrics.record({ ...allowed, policy: { ...allowed.policy, name: "second" } });
    const labels = (await values(registry, "tessera_tokens_issued_total")).map((v) => v.labels["policy"]);
    expect(labels).toEqual(["TokenPolicy/payments/ledger", OTHER_POLICY]);
  });

  it("registers nothing on the global default registry", async () => {
    const { register } = await import("prom-client");
    new IssuerMetrics({ registry: new Registry() });
    expect(register.getSingleMetric("tessera_tokens_issued_total")).toBeUndefined();
  });

  it("exposes the issuance histogram and introspection counters in the text format", async () => {
    const registry = new Registry();
    const metrics = new IssuerMetrics({ registry });
    metrics.observeIssuance(0.004, "allowed");
    metrics.observeIntrospection({ active: false, reason: "revoked" });
    metrics.observeIntrospection({ active: true });
    metrics.observeRevocation();
    const text = await registry.metrics();
    expect(text).toContain('tessera_issuance_duration_seconds_bucket{le="0.005",outcome="allowed"} 1');
    expect(text).toContain('tessera_introspections_total{result="inactive",reason="revoked"} 1');
    expect(text).toContain("tessera_revocations_total 1");
  });
});

describe("timed exchange", () => {
  it.each([
    ["a minted token", { status: 200, body: { access_token: "x" } }, "allowed"],
    ["a policy denial", { status: 403, body: { error: "access_denied", tessera_reason: "NoMatchingPolicy" } }, "denied"],
    ["a malformed request", { status: 400, body: { error: "invalid_request" } }, "error"],
  ])("times %s as %s", async (_name, outcome, label) => {
    const { timedExchange } = await import("../../../controller/src/issuer/metrics.ts");
    const registry = new Registry();
    const metrics = new IssuerMetrics({ registry });
    let ms = 0;
    const timed = timedExchange(() => {
      ms += 7;
      return Promise.resolve(outcome);
    }, metrics, () => ms);
    expect(await timed("body")).toBe(outcome);
    expect(await registry.metrics()).toContain(`tessera_issuance_duration_seconds_bucket{le="0.01",outcome="${label}"} 1`);
  });

  it("hands the request's DPoP header to the exchange, so timing never unbinds a token", async () => {
    const { timedExchange } = await import("../../../controller/src/issuer/metrics.ts");
    const seen: unknown[] = [];
    const timed = timedExchange(
      (_body: string, dpop?: readonly string[]) => {
        seen.push(dpop);
        return Promise.resolve({ status: 200, body: {} });
      },
      new IssuerMetrics({ registry: new Registry() }),
      () => 0,
    );
    await timed("body", ["proof"]);
    expect(seen).toEqual([["proof"]]);
  });
});
