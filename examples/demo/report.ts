// Renders the demo's outcome: short aligned sections for people (colour only when asked) or one JSON document.

/** One line of a section: a label and what to say about it (several lines allowed). */
export interface DemoRow {
  readonly label: string;
  readonly value: string;
  /** Painted as a failure. */
  readonly failed?: boolean;
}

/** One step of the demo as reported: what a person reads (rows) and what a machine checks (data). */
export interface DemoSection {
  readonly id: string;
  readonly title: string;
  readonly ok: boolean;
  readonly elapsedMs: number;
  readonly rows: readonly DemoRow[];
  readonly data: Readonly<Record<string, unknown>>;
}

export interface DemoReport {
  readonly cluster: { readonly source: string; readonly server: string; readonly version: string };
  readonly sections: readonly DemoSection[];
  readonly ok: boolean;
  readonly elapsedMs: number;
}

const ANSI = { reset: "\u001b[0m", bold: "\u001b[1m", dim: "\u001b[2m", red: "\u001b[31m", green: "\u001b[32m" };
/** Labels longer than this are not allowed to push every value to the right. */
const MAX_LABEL = 24;

export function renderJson(report: DemoReport): string {
  return JSON.stringify(report, null, 2);
}

/** "850 ms", "1.2 s", "12 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 1000)} s`;
}

export function renderTable(report: DemoReport, color: boolean): string {
  const paint = (code: string, text: string): string => (color ? `${code}${text}${ANSI.reset}` : text);
  const labels = report.sections.flatMap((s) => s.rows.map((r) => r.label.length));
  const width = Math.min(MAX_LABEL, Math.max("Cluster".length, ...labels));
  const indent = " ".repeat(2 + width + 2);
  const titleWidth = Math.max(...report.sections.map((s, i) => `${String(i + 1)}. ${s.title}`.length));
  const out = [
    `${paint(ANSI.bold, "Cluster".padEnd(width + 2))}  ${report.cluster.source}: kube-apiserver ${report.cluster.version} at ${report.cluster.server}`,
  ];
  report.sections.forEach((section, index) => {
    const heading = `${String(index + 1)}. ${section.title}`.padEnd(titleWidth);
    const time = paint(ANSI.dim, formatDuration(section.elapsedMs));
    out.push("", `${paint(section.ok ? ANSI.bold : `${ANSI.bold}${ANSI.red}`, heading)}  ${section.ok ? time : paint(ANSI.red, "failed")}`);
    for (const row of section.rows) {
      const [first = "", ...rest] = row.value.split("\n");
      const value = (text: string): string => (row.failed === true ? paint(ANSI.red, text) : text);
      const label = row.label.length > width ? `${row.label.slice(0, width - 1)}…` : row.label.padEnd(width);
      out.push(`  ${paint(ANSI.dim, label)}  ${value(first)}`.trimEnd());
      for (const line of rest) out.push(`${indent}${value(line)}`.trimEnd());
    }
  });
  const failed = report.sections.find((s) => !s.ok);
  out.push(
    "",
    failed === undefined
      ? paint(ANSI.green, `Done in ${formatDuration(report.elapsedMs)}.`)
      : paint(ANSI.red, `The demo did not complete: "${failed.title}" failed (see above).`),
  );
  return out.join("\n");
}
