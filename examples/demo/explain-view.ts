// An explain report in a few lines per audience, for the demo's section (the full text is `tessera explain`'s) (pure).
import type { ExplainReport, ExplainedPolicy } from "../../controller/src/issuer/explain/explainer.ts";

function policyLine(p: ExplainedPolicy): string {
  const conditions = p.conditions.map((c) => `${c.name} ${c.passed ? "passed" : "FAILED"}`).join(", ");
  const state = [
    p.selected ? "selects the pod" : "does not select the pod",
    ...(p.selected ? [p.audienceAllowed ? "allows the audience" : "does not allow the audience"] : []),
    ...(conditions === "" ? [] : [conditions]),
  ].join(", ");
  return `${p.chosen ? "* " : "  "}${p.policy}: ${state}`;
}

export function explainLines(report: ExplainReport): string {
  const out = [`pod ${report.pod.namespace}/${report.pod.name}, service account ${report.pod.serviceAccount}`];
  for (const r of report.requests) {
    const audience = r.request.audiences.join(" ");
    if (r.allowed) {
      out.push(`${audience}: ALLOWED under ${r.policy?.ref ?? "?"} (generation ${String(r.policy?.generation ?? "?")})`);
      if (r.granted !== undefined) out.push(`  granted scopes ${r.granted.scopes.join(" ")}, ttl ${String(r.granted.ttlSeconds)} s`);
    } else {
      out.push(`${audience}: DENIED, ${r.reason ?? "?"}`);
      if (r.message !== undefined) out.push(`  why: ${r.message}`);
    }
    for (const p of r.policies) out.push(`  ${policyLine(p)}`);
  }
  return out.join("\n");
}
