// The chart's alerts and dashboard checked with Prometheus' own promtool (built from its Go module by the test setup):
// the rendered PrometheusRule passes `promtool check rules`, unit tests fire each alert and keep it quiet when healthy,
// every alert links its runbook section, and every query reads a metric Tessera really exports.
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { runPromtool, type PromtoolResult } from "../../controlplane/promtool.ts";
import { exportedMetricNames, metricNamesOf } from "../../unit/chart/metric-names.ts";
import { controlPlaneInfo, REPO_ROOT } from "../support/index.ts";
import { findObject, renderChart } from "./chart.ts";

const ALERT_TESTS_DIR = join(REPO_ROOT, "test", "integration", "chart", "alerts");
const RULES_FILE = "tessera-rules.yaml";
const RUNBOOKS = join(REPO_ROOT, "docs", "runbooks.md");
const RUNBOOK_BASE = "https://tessera.dev/docs/runbooks";

interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}
interface RuleGroups {
  readonly groups: readonly { readonly name: string; readonly rules: readonly Rule[] }[];
}

let work: string;
let groups: RuleGroups;
const rules = (): readonly Rule[] => groups.groups.flatMap((g) => g.rules);
const promtool = (args: readonly string[]): Promise<PromtoolResult> => runPromtool(controlPlaneInfo().binaries.promtool, args, work);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "tessera-promtool-"));
  // Release and namespace "tessera": the unit tests' series carry job="tessera-metrics", namespace="tessera".
  const objects = await renderChart({ namespace: "tessera", values: { prometheusRule: { enabled: true } }, apiVersions: ["monitoring.coreos.com/v1/PrometheusRule"] });
  groups = findObject(objects, "PrometheusRule")["spec"] as RuleGroups;
  await writeFile(join(work, RULES_FILE), stringify(groups));
  for (const file of await readdir(ALERT_TESTS_DIR)) await copyFile(join(ALERT_TESTS_DIR, file), join(work, file));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("the chart's PrometheusRule", () => {
  it("passes promtool check rules", async () => {
    const result = await promtool(["check", "rules", RULES_FILE]);
    expect(result.stdout + result.stderr).toContain(`SUCCESS: ${String(rules().length)} rules found`);
    expect(result.code).toBe(0);
  });

  it("passes promtool's unit tests, which fire every alert and keep each quiet when healthy", async () => {
    const files = (await readdir(ALERT_TESTS_DIR)).sort();
    const result = await promtool(["test", "rules", ...files]);
    expect(result.stdout + result.stderr).not.toMatch(/FAILED/);
    expect(result.code).toBe(0);
    // Every alert is fired by some test: its name appears as an expected alert with labels.
    const tests = (await Promise.all(files.map((f) => readFile(join(ALERT_TESTS_DIR, f), "utf8")))).join("\n");
    for (const { alert } of rules()) expect(tests, alert).toMatch(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels:`));
  });

  it("makes promtool fail a test that expects an alert the series do not fire, naming the alert", async () => {
    const healthy = {
      rule_files: [RULES_FILE],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: [{ series: 'up{job="tessera-metrics",namespace="tessera",pod="tessera-a"}', values: "1x10" }],
          alert_rule_test: [{ eval_time: "6m", alertname: "TesseraIssuerDown", exp_alerts: [{ exp_labels: { severity: "critical" } }] }],
        },
      ],
    };
    await writeFile(join(work, "wrong.yaml"), stringify(healthy));
    const result = await promtool(["test", "rules", "wrong.yaml"]);
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toContain("TesseraIssuerDown");
  });

  it.each([
    "TesseraIssuerDown",
    "TesseraReplicaNotReady",
    "TesseraDenialSpike",
    "TesseraIssuanceSlow",
    "TesseraSigningKeyOverdue",
    "TesseraWebhookFailing",
    "TesseraSidecarWithoutToken",
  ])("has the alert %s the operators asked for", (alert) => {
    expect(rules().map((r) => r.alert)).toContain(alert);
  });

  it("gives every alert a severity, a summary, a description and a runbook_url to its own section of docs/runbooks.md", async () => {
    const runbooks = await readFile(RUNBOOKS, "utf8");
    // GitHub's anchor of a "## Name" heading is the name in lower case.
    const anchors = new Set([...runbooks.matchAll(/^## (\S+)$/gm)].map((m) => (m[1] ?? "").toLowerCase()));
    for (const rule of rules()) {
      expect(["critical", "warning"], rule.alert).toContain(rule.labels?.["severity"]);
      expect(rule.annotations?.["summary"] ?? "", rule.alert).not.toBe("");
      expect(rule.annotations?.["description"] ?? "", rule.alert).not.toBe("");
      expect(rule.annotations?.["runbook_url"], rule.alert).toBe(`${RUNBOOK_BASE}#${rule.alert.toLowerCase()}`);
      expect(anchors, rule.alert).toContain(rule.alert.toLowerCase());
    }
  });

  it("reads only metrics the controller, the sidecar or Prometheus itself export", async () => {
    const exported = await exportedMetricNames();
    const unknown = rules().flatMap((r) => metricNamesOf(r.expr).filter((m) => !exported.has(m)).map((m) => `${r.alert}: ${m}`));
    expect(unknown).toEqual([]);
  });
});

describe("the chart's dashboard", () => {
  it("has queries promtool parses as PromQL once Grafana's variables are filled in", async () => {
    const dashboard = JSON.parse(await readFile(join(REPO_ROOT, "charts", "tessera", "files", "dashboards", "tessera.json"), "utf8")) as {
      panels: { id: number; targets?: { refId: string; expr: string }[] }[];
    };
    const grafana: Record<string, string> = { __rate_interval: "2m", __range: "6h", namespace: "tessera", app_namespace: ".*", expiring_within: "300" };
    const recording = dashboard.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ record: `dashboard:panel_${String(p.id)}:${t.refId}`, expr: t.expr.replace(/\$(\w+)/g, (_m, name: string) => grafana[name] ?? `$${name}`) })),
    );
    expect(recording.map((r) => r.expr).filter((e) => e.includes("$"))).toEqual([]);
    await writeFile(join(work, "dashboard-queries.yaml"), stringify({ groups: [{ name: "dashboard", rules: recording }] }));
    const result = await promtool(["check", "rules", "dashboard-queries.yaml"]);
    expect(result.stdout + result.stderr).toContain(`SUCCESS: ${String(recording.length)} rules found`);
    expect(result.code).toBe(0);
  });
});
