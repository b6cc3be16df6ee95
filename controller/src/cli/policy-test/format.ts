// The three faces of a test report: a table for people, JUnit XML and JSON for CI. Pure.

import type { CaseResult, DecisionSummary } from "./run.ts";
import type { TestReport } from "./test-documents.ts";

export type OutputFormat = "table" | "junit" | "json";
export const OUTPUT_FORMATS: readonly OutputFormat[] = ["table", "junit", "json"];

export function formatTestReport(report: TestReport, format: OutputFormat): string {
  switch (format) {
    case "table":
      return formatTable(report);
    case "junit":
      return formatJunit(report);
    case "json":
      return `${JSON.stringify(report, null, 2)}\n`;
  }
}

/** One line per case (PASS/FAIL, suite, case, what was decided), failures indented below, totals last. */
export function formatTable(report: TestReport): string {
  const out: string[] = [];
  for (const p of report.problems) out.push(`ERROR  ${p.file}: ${p.message}`);
  const rows = report.suites.flatMap((suite) => suite.cases.map((c) => ({ suite: suite.name, c })));
  const suiteWidth = Math.max(5, ...report.suites.map((s) => s.name.length));
  const caseWidth = Math.max(4, ...rows.map((r) => r.c.name.length));
  if (rows.length > 0) out.push(`${"".padEnd(6)} ${"SUITE".padEnd(suiteWidth)}  ${"CASE".padEnd(caseWidth)}  DECISION`);
  for (const suite of report.suites) {
    for (const e of suite.errors) out.push(`ERROR  ${suite.location} (suite ${suite.name}): ${e}`);
    for (const c of suite.cases) {
      out.push(`${c.passed ? "PASS " : "FAIL "}  ${suite.name.padEnd(suiteWidth)}  ${c.name.padEnd(caseWidth)}  ${decisionText(c.got)}`);
      for (const f of c.failures) out.push(`         ${f}`);
    }
  }
  const failed = rows.filter((r) => !r.c.passed).length;
  if (failed > 0) {
    out.push("", "Failures:");
    for (const { suite, c } of rows) if (!c.passed) out.push(`  ${failureMessage(suite, c)}`);
  }
  const invalid = report.suites.filter((s) => s.errors.length > 0).length;
  out.push(
    report.suites.length === 0
      ? "no TokenPolicyTest suite found"
      : `${rows.length} cases in ${report.suites.length} suites: ${rows.length - failed} passed, ${failed} failed` +
          (invalid > 0 ? `, ${invalid} suites invalid` : "") +
          (report.problems.length > 0 ? `, ${report.problems.length} manifest problems` : ""),
  );
  return `${out.join("\n")}\n`;
}

/** What was decided, in a few words. */
export function decisionText(got: DecisionSummary): string {
  if (!got.allowed) return `denied ${got.reason ?? "?"} (${got.deniedBy ?? "?"})`;
  const scopes = (got.scopes ?? []).length === 0 ? "no scope" : (got.scopes ?? []).join(" ");
  return `allowed ${scopes}, ${got.ttlSeconds ?? "?"}s, ${got.policy ?? "?"}`;
}

/** The failure message a CI system shows: which case, and each difference with the decision's reason. */
export function failureMessage(suite: string, c: CaseResult): string {
  return `${suite} › ${c.name}: ${c.failures.join("; ")}`;
}

/** JUnit XML: one testsuite per suite, one testcase per case; invalid suites and manifest problems are errors. */
export function formatJunit(report: TestReport): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const total = report.suites.reduce((n, s) => n + s.cases.length, 0);
  const failures = report.suites.reduce((n, s) => n + s.cases.filter((c) => !c.passed).length, 0);
  const errors = report.suites.filter((s) => s.errors.length > 0).length + (report.problems.length > 0 ? 1 : 0);
  out.push(`<testsuites name="tessera test" tests="${total}" failures="${failures}" errors="${errors}">`);
  if (report.problems.length > 0) {
    const text = report.problems.map((p) => `${p.file}: ${p.message}`).join("\n");
    out.push(`  <testsuite name="manifests" tests="1" failures="0" errors="1">`);
    out.push(`    <testcase classname="manifests" name="load and compile"><error message="${xml(text)}">${xml(text)}</error></testcase>`);
    out.push("  </testsuite>");
  }
  for (const suite of report.suites) {
    const suiteFailures = suite.cases.filter((c) => !c.passed).length;
    out.push(
      `  <testsuite name="${xml(suite.name)}" file="${xml(suite.location)}" tests="${Math.max(1, suite.cases.length)}" ` +
        `failures="${suiteFailures}" errors="${suite.errors.length > 0 ? 1 : 0}">`,
    );
    if (suite.errors.length > 0) {
      const text = suite.errors.join("\n");
      out.push(`    <testcase classname="${xml(suite.name)}" name="(suite is invalid)"><error message="${xml(text)}">${xml(text)}</error></testcase>`);
    }
    for (const c of suite.cases) {
      const open = `    <testcase classname="${xml(suite.name)}" name="${xml(c.name)}" file="${xml(suite.location)}"`;
      if (c.passed) {
        out.push(`${open}/>`);
      } else {
        const message = failureMessage(suite.name, c);
        out.push(`${open}><failure message="${xml(message)}">${xml(c.failures.join("\n"))}</failure></testcase>`);
      }
    }
    out.push("  </testsuite>");
  }
  out.push("</testsuites>");
  return `${out.join("\n")}\n`;
}

/** Escapes text for an XML attribute or element; drops characters XML 1.0 cannot carry at all. */
export function xml(text: string): string {
  return text
    .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}
