// Renders the demo's outcome: an aligned table for people (colour only on a terminal) or one JSON document.
import type { DemoRow } from "./steps.ts";

export interface DemoReport {
  readonly cluster: { readonly source: string; readonly server: string; readonly version: string };
  readonly steps: readonly { readonly title: string; readonly rows: readonly DemoRow[] }[];
  readonly ok: boolean;
}

const ANSI = { reset: "\u001b[0m", bold: "\u001b[1m", dim: "\u001b[2m", red: "\u001b[31m", green: "\u001b[32m" };

export function renderJson(report: DemoReport): string {
  return JSON.stringify(report, null, 2);
}

export function renderTable(report: DemoReport, color: boolean): string {
  const paint = (code: string, text: string): string => (color ? `${code}${text}${ANSI.reset}` : text);
  const rows = report.steps.flatMap((s) => s.rows);
  const header: DemoRow = { kind: "KIND", name: "NAME", result: "applied", status: "STATUS" };
  const widths = {
    kind: Math.max(...[header, ...rows].map((r) => r.kind.length)),
    name: Math.max(...[header, ...rows].map((r) => r.name.length)),
    result: "RESULT".length + 1,
  };
  const line = (kind: string, name: string, result: string, status: string): string =>
    `${kind.padEnd(widths.kind)}  ${name.padEnd(widths.name)}  ${result.padEnd(widths.result)}  ${status}`.trimEnd();
  const out = [
    `${paint(ANSI.bold, "Cluster")}  ${report.cluster.source}: kube-apiserver ${report.cluster.version} at ${report.cluster.server}`,
    "",
  ];
  for (const step of report.steps) {
    out.push(paint(ANSI.bold, step.title));
    if (step.rows.length === 0) {
      out.push(paint(ANSI.dim, "  nothing to apply"));
      continue;
    }
    out.push(paint(ANSI.dim, `  ${line("KIND", "NAME", "RESULT", "STATUS")}`));
    for (const row of step.rows) {
      const result = row.result === "failed" ? paint(ANSI.red, row.result.padEnd(widths.result)) : paint(ANSI.green, row.result.padEnd(widths.result));
      out.push(`  ${row.kind.padEnd(widths.kind)}  ${row.name.padEnd(widths.name)}  ${result}  ${row.status}`.trimEnd());
    }
  }
  out.push("", report.ok ? paint(ANSI.green, "Done.") : paint(ANSI.red, "Some objects were not applied (see above)."));
  return out.join("\n");
}
