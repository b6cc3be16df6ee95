// who-can's answer as a table for people. Pure.

import type { WhoCanReport } from "./who-can.ts";
import { ANY_ACCOUNT } from "./who-can.ts";

export function formatWhoCan(report: Extract<WhoCanReport, { ok: true }>): string {
  const out: string[] = [];
  for (const p of report.problems) out.push(`warning: ${p.file} does not compile and grants nothing: ${p.message}`);
  const asked = report.scope === undefined ? "(default scopes)" : `scope ${report.scope}`;
  if (report.grants.length === 0) {
    out.push(`No service account can obtain a token for ${report.audience} ${asked}.`);
  } else {
    out.push(`Who can obtain a token for ${report.audience} ${asked}:`);
    const rows = report.grants.map((g) => [
      g.serviceAccount,
      g.policy,
      g.owner,
      g.scopes.length === 0 ? "-" : g.scopes.join(" "),
      `${g.ttlSeconds}s`,
      g.conditions.length === 0 ? "always" : `if ${g.conditions.join("; and ")}`,
    ]);
    out.push(...table(["SERVICE ACCOUNT", "POLICY", "OWNER", "SCOPES", "TTL", "WHEN"], rows));
  }
  if (report.refused.length > 0) {
    out.push("", "Refused (asked for by a policy or named by the owner, but denied):");
    out.push(...table(["SERVICE ACCOUNT", "REASON", "BY", "MESSAGE"], report.refused.map((r) => [r.serviceAccount, r.reason, r.deniedBy, r.message])));
  }
  if ([...report.grants, ...report.refused].some((e) => e.serviceAccount.endsWith(`/${ANY_ACCOUNT}`))) {
    out.push("", `${ANY_ACCOUNT}: any other service account of the namespace.`);
  }
  return `${out.join("\n")}\n`;
}

/** Left-aligned columns; the last column is not padded. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ").trimEnd();
  return [line(header), ...rows.map(line)];
}
