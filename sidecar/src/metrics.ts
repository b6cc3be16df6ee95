// Sidecar counters and a hand-written Prometheus text exposition (no client library: this runs in every pod).

/** Label value for tokens the workload asked for at run time, aggregated to keep label cardinality bounded. */
export const ON_DEMAND_LABEL = "_on_demand";

interface Family {
  readonly help: string;
  readonly type: "counter" | "gauge";
}

/** Every metric the sidecar exposes, by name: the dashboard and alert tests read this list. */
export const FAMILIES = {
  tessera_sidecar_refreshes_total: { help: "Tokens obtained from the issuer.", type: "counter" },
  tessera_sidecar_refresh_failures_total: {
    help: "Exchanges that produced no token, by error code.",
    type: "counter",
  },
  tessera_sidecar_cache_hits_total: { help: "Local requests served from a held token.", type: "counter" },
  tessera_sidecar_cache_misses_total: { help: "Local requests that found no valid held token.", type: "counter" },
  tessera_sidecar_token_file_writes_total: { help: "Token file writes, by result.", type: "counter" },
  tessera_sidecar_watch_changes_total: { help: "Entitlement changes received on the re-issuance channel.", type: "counter" },
  tessera_sidecar_watch_failures_total: { help: "Failed re-issuance channel polls.", type: "counter" },
  tessera_sidecar_token_expiry_seconds: {
    help: "Seconds until the held token expires (0 when none is held), per configured token.",
    type: "gauge",
  },
  tessera_sidecar_on_demand_tokens: { help: "Run-time tokens currently held.", type: "gauge" },
  tessera_sidecar_ready: { help: "1 when every configured token is held and unexpired.", type: "gauge" },
} as const satisfies Record<string, Family>;

export type MetricName = keyof typeof FAMILIES;
export type Labels = Readonly<Record<string, string>>;

export class Metrics {
  readonly #counters = new Map<MetricName, Map<string, number>>();

  inc(name: MetricName, labels: Labels = {}, by = 1): void {
    let series = this.#counters.get(name);
    if (series === undefined) {
      series = new Map();
      this.#counters.set(name, series);
    }
    const id = renderLabels(labels);
    series.set(id, (series.get(id) ?? 0) + by);
  }

  /** Current value of a counter series (tests and diagnostics). */
  value(name: MetricName, labels: Labels = {}): number {
    return this.#counters.get(name)?.get(renderLabels(labels)) ?? 0;
  }

  /** Prometheus text format 0.0.4: counters held here plus gauges computed by the caller at scrape time. */
  render(gauges: ReadonlyArray<{ readonly name: MetricName; readonly labels?: Labels; readonly value: number }>): string {
    const lines: string[] = [];
    for (const [name, family] of Object.entries(FAMILIES) as [MetricName, Family][]) {
      const samples: string[] = [];
      for (const [labels, value] of this.#counters.get(name) ?? []) samples.push(`${name}${labels} ${formatValue(value)}`);
      for (const g of gauges) {
        if (g.name === name) samples.push(`${name}${renderLabels(g.labels ?? {})} ${formatValue(g.value)}`);
      }
      if (samples.length === 0 && family.type === "counter" && (name.endsWith("hits_total") || name.endsWith("misses_total"))) {
        samples.push(`${name} 0`);
      }
      if (samples.length === 0) continue;
      lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`, ...samples);
    }
    return `${lines.join("\n")}\n`;
  }
}

function renderLabels(labels: Labels): string {
  const keys = Object.keys(labels);
  // Unlabelled series (the cache hit counter, once per served token) skip the sort and the join.
  if (keys.length === 0) return "";
  keys.sort();
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k] ?? "")}"`).join(",")}}`;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  return Number.isFinite(v) ? String(v) : v > 0 ? "+Inf" : v < 0 ? "-Inf" : "NaN";
}
