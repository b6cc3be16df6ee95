// The chart's Grafana dashboard: every query reads only metrics Tessera really exports, and the panels the operators
// rely on (issuance, denials, latency, sidecar expiry, keys, caches, webhooks, leader) are there.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { exportedMetricNames, metricNamesOf } from "./metric-names.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const DASHBOARD_FILE = join(ROOT, "charts", "tessera", "files", "dashboards", "tessera.json");

interface Target {
  readonly expr: string;
  readonly datasource?: { readonly uid?: string };
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly description?: string;
  readonly datasource?: { readonly uid?: string };
  readonly targets?: readonly Target[];
}
interface Variable {
  readonly name: string;
  readonly type: string;
  readonly definition?: string;
}
interface Dashboard {
  readonly uid: string;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly Variable[] };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, "utf8")) as Dashboard;
const graphs = dashboard.panels.filter((p) => p.type !== "row");
const queries = graphs.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
/** Grafana's label_values(METRIC, LABEL): the metric is the first argument. */
const variableMetrics = dashboard.templating.list.flatMap((v) => /^label_values\(\s*([A-Za-z_:][\w:]*)/.exec(v.definition ?? "")?.[1] ?? []);

describe("metricNamesOf", () => {
  it.each([
    ["a plain selector", 'tessera_ready{namespace="x"} == 0', ["tessera_ready"]],
    ["a rate inside an aggregation with a grouping", "sum by (policy, reason) (rate(tessera_tokens_denied_total[5m]))", ["tessera_tokens_denied_total"]],
    ["a quantile over buckets with a Grafana interval", 'histogram_quantile(0.99, sum by (le) (rate(a_bucket{o!="error"}[$__rate_interval])))', ["a_bucket"]],
    ["a join on a label list", "rate(process_cpu_seconds_total[5m]) and on (pod) tessera_ready", ["process_cpu_seconds_total", "tessera_ready"]],
    ["a comparison with a Grafana variable", "sort(tessera_sidecar_token_expiry_seconds < $expiring_within)", ["tessera_sidecar_token_expiry_seconds"]],
    ["time() and numbers with exponents", "time() - x_timestamp_seconds > 1e3", ["x_timestamp_seconds"]],
    ["a label value that looks like a metric", 'up{job="tessera_tokens_issued_total"}', ["up"]],
    ["an offset", "rate(a_total[5m] offset 1h) / rate(b_total[5m])", ["a_total", "b_total"]],
    ["a group_left with labels", "a * on (pod) group_left (node) b", ["a", "b"]],
  ])("finds the metrics of %s", (_name, expr, expected) => {
    expect(metricNamesOf(expr)).toEqual(expected);
  });
});

describe("the Grafana dashboard", () => {
  it("reads only metrics the controller, the sidecar or Prometheus itself export", async () => {
    const exported = await exportedMetricNames();
    const unknown = [
      ...queries.flatMap((q) => metricNamesOf(q.expr).filter((m) => !exported.has(m)).map((m) => `${q.panel}: ${m}`)),
      ...variableMetrics.filter((m) => !exported.has(m)).map((m) => `variable: ${m}`),
    ];
    expect(unknown).toEqual([]);
  });

  it("has a query naming a metric in every panel, and a description saying what it shows", () => {
    for (const panel of graphs) {
      expect(panel.targets?.length ?? 0, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(metricNamesOf(target.expr).length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0);
      expect(panel.description ?? "", panel.title).not.toBe("");
    }
  });

  it("queries through the data source variable, so it works with whatever Prometheus Grafana has", () => {
    expect(dashboard.templating.list.map((v) => v.name)).toContain("datasource");
    for (const panel of graphs) {
      expect(panel.datasource?.uid, panel.title).toBe("${datasource}");
      for (const target of panel.targets ?? []) expect(target.datasource?.uid, panel.title).toBe("${datasource}");
    }
  });

  it("gives every panel its own id", () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each([
    ["issuance by policy", "tessera_tokens_issued_total"],
    ["denials by reason and policy", "tessera_tokens_denied_total"],
    ["latency percentiles", "tessera_issuance_duration_seconds_bucket"],
    ["tokens about to expire at sidecars", "tessera_sidecar_token_expiry_seconds"],
    ["key age", "tessera_signing_key_activated_timestamp_seconds"],
    ["key rotation", "tessera_signing_keys"],
    ["cache sync", "tessera_cache_synced"],
    ["webhook admissions and failures", "tessera_admission_requests_total"],
    ["the leader", "tessera_leader"],
    ["replica readiness", "tessera_ready"],
  ])("shows %s", (_what, metric) => {
    expect(queries.filter((q) => metricNamesOf(q.expr).includes(metric))).not.toEqual([]);
  });
});
