// The metric names a PromQL expression reads, and the names Tessera's controller and sidecar really export (from
// their own registries), so the dashboard and the alerts cannot name a metric nobody serves.
import { collectDefaultMetrics, Registry } from "prom-client";
import { admissionMetrics } from "../../../controller/src/admission/metrics.ts";
import { readinessMetric } from "../../../controller/src/health.ts";
import { signingKeyMetrics } from "../../../controller/src/issuer/keys/metrics.ts";
import { IssuerMetrics } from "../../../controller/src/issuer/metrics.ts";
import { controllerMetrics } from "../../../controller/src/reconcile/metrics.ts";
import { FAMILIES } from "../../../sidecar/src/metrics.ts";

/** Words of PromQL that are not metric names when they stand outside a function call's name position. */
const KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan", "atan2"]);
/** Keywords followed by a parenthesised list of label names. */
const LABEL_LISTS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);

/** Series Prometheus makes itself for every target, not read from an exposition. */
export const PROMETHEUS_SERIES = new Set(["up"]);

/**
 * The metric names an expression reads. Strings, label matchers, ranges and Grafana's `$variables` are dropped
 * first (a duration such as `offset 1h` stays one token); an identifier followed by "(" or by a grouping is a function
 * or an aggregation; the list after by/on/... holds label names.
 */
export function metricNamesOf(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ");
  const tokens = stripped.match(/\$\{?\w+\}?|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[A-Za-z\d]*|[A-Za-z_:][\w:]*|\S/g) ?? [];
  const names = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? "";
    if (!/^[A-Za-z_:]/.test(token)) continue;
    const next = tokens[i + 1];
    if (LABEL_LISTS.has(token.toLowerCase())) {
      if (next === "(") while (i < tokens.length && tokens[i] !== ")") i++;
      continue;
    }
    if (KEYWORDS.has(token.toLowerCase())) {
      if (token.toLowerCase() === "offset") i++;
      continue;
    }
    // A function or an aggregation: `rate(`, `sum(`, or `sum by (...)` with its grouping first.
    if (next === "(" || LABEL_LISTS.has((next ?? "").toLowerCase())) continue;
    names.add(token);
  }
  return [...names].sort();
}

/** Sample names a prom-client registry exposes: a histogram as its _bucket, _sum and _count series. */
async function sampleNames(registry: Registry): Promise<string[]> {
  const out: string[] = [];
  for (const metric of await registry.getMetricsAsJSON()) {
    const type = String(metric.type);
    if (type === "histogram") out.push(`${metric.name}_bucket`, `${metric.name}_sum`, `${metric.name}_count`);
    else if (type === "summary") out.push(metric.name, `${metric.name}_sum`, `${metric.name}_count`);
    else out.push(metric.name);
  }
  return out;
}

/** Every metric the controller registers, built the way build-controller.ts builds them, on a fresh registry. */
export async function controllerMetricNames(): Promise<Set<string>> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  readinessMetric(registry, () => true);
  controllerMetrics(registry);
  new IssuerMetrics({ registry });
  admissionMetrics(registry);
  signingKeyMetrics(registry, { status: () => ({ signingSince: undefined, pending: 0, retiring: 0 }) }, 3600);
  return new Set(await sampleNames(registry));
}

/** Every metric the sidecar can expose (its families are declared in one table). */
export function sidecarMetricNames(): Set<string> {
  return new Set(Object.keys(FAMILIES));
}

/** What a dashboard query or an alert may read: the controller's, the sidecar's and Prometheus' own series. */
export async function exportedMetricNames(): Promise<Set<string>> {
  return new Set([...(await controllerMetricNames()), ...sidecarMetricNames(), ...PROMETHEUS_SERIES]);
}
