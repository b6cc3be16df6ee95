// Renders an explain report as aligned, readable text for `tessera explain` (the JSON form is the report itself).

import type { ExplainReport, ExplainedAudit, ExplainedOwner, ExplainedPolicy, ExplainedRequest } from "./explainer.ts";

function rows(pairs: readonly (readonly [string, string])[], indent = ""): string[] {
  const width = Math.max(0, ...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `${indent}${label.padEnd(width)}  ${value}`.trimEnd());
}

function list(values: readonly string[]): string {
  return values.length === 0 ? "(none)" : values.join(" ");
}

function policyLines(policies: readonly ExplainedPolicy[]): string[] {
  if (policies.length === 0) return ["  (no policy considered)"];
  const width = Math.max(...policies.map((p) => p.policy.length));
  return policies.flatMap((p) => {
    const state = [
      `gen ${p.generation}`,
      p.selected ? "selected" : "not selected",
      p.audienceAllowed ? "audience allowed" : "audience not allowed",
      ...(p.skippedBecause === undefined ? [] : [`skipped: ${p.skippedBecause}`]),
    ].join(", ");
    const head = `  ${p.chosen ? "*" : " "} ${p.policy.padEnd(width)}  ${state}`;
    const conditions = p.conditions.map(
      (c) => `      ${c.passed ? "pass" : "FAIL"}  ${c.name}${c.message === undefined ? "" : `: ${c.message}`}`,
    );
    return [head, ...conditions];
  });
}

function claimLines(claims: Readonly<Record<string, unknown>>): string[] {
  const entries = Object.entries(claims).sort(([a], [b]) => a.localeCompare(b));
  return rows(entries.map(([name, value]) => [name, typeof value === "string" ? value : JSON.stringify(value)] as const), "  ");
}

/** "https://orders.example: TokenAudience team-a/orders (team orders, #orders), admits orders.read". */
function ownerText(owner: ExplainedOwner): string {
  const by = owner.assignedBy === undefined ? "" : ` [${owner.assignedBy}]`;
  if (owner.ownedBy !== "Contract" || owner.contract === undefined) return `${owner.audience}: ${owner.ownedBy}${by}`;
  const contact = owner.ownerContact === undefined ? "" : `, ${owner.ownerContact}`;
  const admits = owner.scopesAdmitted === undefined ? "" : `, admits ${owner.scopesAdmitted.length === 0 ? "no scope" : list(owner.scopesAdmitted)}`;
  return `${owner.audience}: TokenAudience ${owner.contract.namespace}/${owner.contract.name} (team ${owner.ownerTeam ?? "?"}${contact})${admits}${by}`;
}

/** "would have denied (GuardrailViolation): ..." */
function auditText(audit: ExplainedAudit): string {
  const outcome =
    audit.wouldHave === "unchanged"
      ? "would not change this decision"
      : audit.wouldHave === "unevaluated"
        ? "not evaluated"
        : `would have ${audit.wouldHave}`;
  const reason = audit.reason === undefined || audit.wouldHave === "unevaluated" ? "" : ` (${audit.reason})`;
  return `${audit.rule} (gen ${audit.generation}): ${outcome}${reason}${audit.message === undefined ? "" : `: ${audit.message}`}`;
}

function requestLines(explained: ExplainedRequest): string[] {
  const decision = explained.allowed
    ? `ALLOWED under ${explained.policy?.ref ?? "?"} (generation ${explained.policy?.generation ?? "?"})`
    : `DENIED: ${explained.reason ?? "?"}${explained.deniedBy === undefined ? "" : ` (said by the ${explained.deniedBy === "owner" ? "audience's owner" : explained.deniedBy === "operator" ? "operator" : "caller's policy"})`}`;
  const head: [string, string][] = [
    ["Audience", list(explained.request.audiences)],
    ["Scopes", explained.request.scopes.length === 0 ? "(none asked: the policy's defaults)" : list(explained.request.scopes)],
    ["Decision", decision],
  ];
  if (!explained.allowed && explained.message !== undefined) head.push(["Why", explained.message]);
  // The chain, current actor first (the outermost act), each with the rule that let it act.
  (explained.delegation ?? []).forEach((link, i) => head.push([i === 0 ? "Acting" : "  for", `${link.actor}: allowed by ${link.allowedBy}`]));
  for (const owner of explained.owners ?? []) head.push(["Owner", ownerText(owner)]);
  if (explained.granted !== undefined) {
    head.push(["Granted", `scopes ${list(explained.granted.scopes)}; ttl ${explained.granted.ttlSeconds}s`]);
    const requiredBy = explained.granted.dpopRequiredBy ?? [];
    head.push(["Binding", requiredBy.length === 0 ? "bearer, or DPoP-bound when the request carries a proof" : `DPoP-bound only, required by ${requiredBy.join(" and ")}`]);
  }
  if (explained.clamps.length > 0) head.push(["Clamped", explained.clamps.join("; ")]);
  if (explained.guardrails.length > 0) head.push(["Guardrails", explained.guardrails.join("; ")]);
  // Audited rules are shown with what they would have done; the Decision line above is made without them.
  if ((explained.auditedGuardrails ?? []).length > 0) head.push(["Audited guardrails", (explained.auditedGuardrails ?? []).join("; ")]);
  for (const audit of explained.audited ?? []) head.push(["Audited", auditText(audit)]);
  return [
    ...rows(head),
    "",
    "Policies, in precedence order (* = decided under):",
    ...policyLines(explained.policies),
    ...(explained.claims === undefined ? [] : ["", "Claims a token would carry:", ...claimLines(explained.claims)]),
  ];
}

/** The whole report, one section per request, ending with a newline. */
export function formatExplainReport(report: ExplainReport): string {
  const head = rows([
    ["Pod", `${report.pod.namespace}/${report.pod.name} (uid ${report.pod.uid})`],
    ["Service account", `${report.pod.namespace}/${report.pod.serviceAccount}`],
    ["Evaluated at", report.at],
  ]);
  const sections = report.requests.map((r) => ["", ...requestLines(r)].join("\n"));
  return `${[...head, ...sections].join("\n")}\n`;
}
