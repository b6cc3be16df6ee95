// `tessera test DIR...`: runs the TokenPolicyTest suites under each directory against the manifests beside them.

import { parseArgs } from "node:util";
import { loadYaml } from "./manifests/load.ts";
import { formatTestReport, OUTPUT_FORMATS, type OutputFormat } from "./policy-test/format.ts";
import { mergeReports, testDocuments, type TestReport } from "./policy-test/test-documents.ts";

export const TEST_USAGE = `Usage: tessera test DIR... [--output table|junit|json]

Runs every TokenPolicyTest suite found in the YAML files under each DIR against the TokenPolicies,
ClusterTokenPolicies, TokenAudiences and Namespaces under that same DIR, offline, with the issuer's engine.
Each DIR is tested on its own manifests. Exit code 1 when a case fails, a suite is invalid or a manifest does
not compile; 2 on a usage error. See docs/policy.md, "Testing policies".
`;

export interface TestIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly now: () => Date;
}

export type TestArgs =
  | { readonly ok: true; readonly help: boolean; readonly dirs: readonly string[]; readonly output: OutputFormat }
  | { readonly ok: false; readonly message: string };

/** Parses the subcommand's arguments (after "test"); pure. */
export function parseTestArgs(argv: readonly string[]): TestArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: { output: { type: "string", short: "o" }, help: { type: "boolean", short: "h" } },
    });
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  const output = parsed.values.output ?? "table";
  if (!OUTPUT_FORMATS.includes(output as OutputFormat)) return { ok: false, message: `--output must be one of ${OUTPUT_FORMATS.join(", ")}` };
  if (parsed.values.help === true) return { ok: true, help: true, dirs: [], output: output as OutputFormat };
  if (parsed.positionals.length === 0) return { ok: false, message: "name at least one directory" };
  return { ok: true, help: false, dirs: parsed.positionals, output: output as OutputFormat };
}

/** Runs `tessera test`; returns the exit code (0 all passed, 1 failures, 2 usage). */
export async function runTest(argv: readonly string[], io: TestIo): Promise<number> {
  const args = parseTestArgs(argv);
  if (!args.ok) {
    io.stderr(`tessera test: ${args.message}\n\n${TEST_USAGE}`);
    return 2;
  }
  if (args.help) {
    io.stdout(TEST_USAGE);
    return 0;
  }
  const reports: TestReport[] = [];
  const now = io.now();
  for (const dir of args.dirs) {
    let loaded;
    try {
      loaded = await loadYaml(dir);
    } catch (error) {
      io.stderr(`tessera test: cannot read ${dir}: ${error instanceof Error ? error.message : String(error)}\n`);
      return 2;
    }
    const report = testDocuments(loaded.documents, loaded.problems, now);
    // A directory without suites tests nothing: say so, rather than pass silently in CI.
    reports.push(report.suites.length > 0 ? report : { ...report, ok: false, problems: [...report.problems, { file: dir, message: "no TokenPolicyTest suite found" }] });
  }
  const report = mergeReports(reports);
  io.stdout(formatTestReport(report, args.output));
  return report.ok ? 0 : 1;
}
