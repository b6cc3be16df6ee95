// `tessera check` without I/O: compiles loaded policy documents, validates guardrails, formats one line per policy.

import { KIND_CLUSTER_TOKEN_POLICY, KIND_TOKEN_AUDIENCE, KIND_TOKEN_POLICY } from "../../../api/constants.ts";
import {
  compilePolicySet,
  formatRef,
  isTokenAudience,
  refOf,
  validateAgainstGuardrails,
  type GovernedResource,
} from "../policy/index.ts";
import type { LoadProblem, LoadedDocument } from "./manifests/documents.ts";

export type { LoadProblem, LoadedDocument } from "./manifests/documents.ts";

export interface PolicyLine {
  readonly name: string;
  readonly location: string;
  readonly errors: readonly string[];
  /** Narrowing by guardrails: not errors, but worth knowing. */
  readonly notes: readonly string[];
}

export interface CheckReport {
  readonly lines: readonly PolicyLine[];
  readonly problems: readonly LoadProblem[];
  readonly ok: boolean;
}

export function checkDocuments(documents: readonly LoadedDocument[], problems: readonly LoadProblem[]): CheckReport {
  const namespaceLabels = new Map<string, Readonly<Record<string, string>>>();
  const policies: { doc: LoadedDocument; obj: GovernedResource }[] = [];
  for (const doc of documents) {
    const value = doc.value;
    if (typeof value !== "object" || value === null || !("kind" in value)) continue;
    const { kind } = value;
    if (kind === "Namespace") {
      const meta = (value as { metadata?: { name?: unknown; labels?: unknown } }).metadata;
      if (typeof meta?.name === "string") {
        namespaceLabels.set(meta.name, (meta.labels ?? {}) as Record<string, string>);
      }
    } else if (kind === KIND_TOKEN_POLICY || kind === KIND_CLUSTER_TOKEN_POLICY || kind === KIND_TOKEN_AUDIENCE) {
      policies.push({ doc, obj: value as GovernedResource });
    }
  }

  const lines: PolicyLine[] = [];
  // Policies that passed the shape and duplicate checks, with the line each reports on.
  const candidates: { line: number; obj: GovernedResource }[] = [];
  const seen = new Map<string, string>();
  for (const { doc, obj } of policies) {
    const location = doc.index === 0 ? doc.file : `${doc.file}#${doc.index}`;
    const shapeProblem = shapeOf(obj);
    if (shapeProblem !== undefined) {
      lines.push({ name: `${obj.kind}/?`, location, errors: [shapeProblem], notes: [] });
      continue;
    }
    const name = isTokenAudience(obj) ? `TokenAudience/${obj.metadata.namespace ?? ""}/${obj.metadata.name}` : formatRef(refOf(obj));
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      lines.push({ name, location, errors: [`already defined in ${earlier}`], notes: [] });
      continue;
    }
    seen.set(name, location);
    candidates.push({ line: lines.length, obj });
    lines.push({ name, location, errors: [], notes: [] });
  }

  // Guardrails are judged against every cluster policy found, with the labels of Namespaces found beside them.
  const { set, results } = compilePolicySet(candidates.map((c) => c.obj));
  results.forEach((result, i) => {
    const index = candidates[i]?.line ?? -1;
    const current = lines[index];
    if (current === undefined) return;
    if (!result.ok) {
      lines[index] = { ...current, errors: result.errors.map((e) => `${e.path}: ${e.message}`) };
      return;
    }
    if (!("policy" in result)) return;
    const labels = namespaceLabels.get(result.policy.ref.namespace ?? "") ?? {};
    const violations = validateAgainstGuardrails(result.policy, set, labels);
    if (violations.length === 0) return;
    lines[index] = {
      ...current,
      errors: violations.filter((v) => v.effect === "deny").map((v) => `${v.path}: ${v.message}`),
      notes: violations.filter((v) => v.effect === "narrow").map((v) => `${v.path}: ${v.message}`),
    };
  });
  return { lines, problems, ok: problems.length === 0 && lines.every((l) => l.errors.length === 0) };
}

/** Enough shape to name the policy; the rest is compilePolicy's job. */
function shapeOf(obj: GovernedResource): string | undefined {
  const meta = (obj as { metadata?: { name?: unknown } }).metadata;
  if (typeof meta?.name !== "string") return "metadata.name: required";
  if (typeof (obj as { spec?: unknown }).spec !== "object") return "spec: required";
  return undefined;
}

/** One aligned line per policy, its errors and notes indented below it, load problems first. */
export function formatReport(report: CheckReport): string {
  const out: string[] = [];
  for (const p of report.problems) out.push(`ERROR  ${p.file}: ${p.message}`);
  const width = Math.max(0, ...report.lines.map((l) => l.name.length));
  for (const line of report.lines) {
    const status = line.errors.length > 0 ? "ERROR" : "OK   ";
    out.push(`${status}  ${line.name.padEnd(width)}  ${line.location}`);
    for (const e of line.errors) out.push(`         ${e}`);
    for (const n of line.notes) out.push(`         note: ${n}`);
  }
  const failed = report.lines.filter((l) => l.errors.length > 0).length + report.problems.length;
  out.push(
    report.lines.length === 0 && report.problems.length === 0
      ? "no TokenPolicy or ClusterTokenPolicy found"
      : `${report.lines.length} policies, ${failed} with errors`,
  );
  return `${out.join("\n")}\n`;
}
