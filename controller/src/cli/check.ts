// `tessera check <dir>`: loads every YAML document under a directory and reports each policy's compile and guardrail errors.

import { readFile, readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";
import { checkDocuments, formatReport, type LoadProblem, type LoadedDocument } from "./check-report.ts";

export const CHECK_USAGE = `Usage: tessera check <dir>

Compiles every TokenPolicy and ClusterTokenPolicy in the YAML files under <dir> (CEL type-checked), checks each
TokenPolicy against the guardrails found beside it (Namespace objects found there supply namespace labels),
and prints one line per policy. Exit code 1 when any policy has errors.
`;

/** Where the report goes. */
export interface CheckIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** Runs `tessera check`; returns the exit code (0 ok, 1 errors, 2 usage). */
export async function runCheck(argv: readonly string[], io: CheckIo): Promise<number> {
  const [dir, ...rest] = argv;
  if (dir === "--help" || dir === "-h") {
    io.stdout(CHECK_USAGE);
    return 0;
  }
  if (dir === undefined || rest.length > 0) {
    io.stderr(CHECK_USAGE);
    return 2;
  }
  const documents: LoadedDocument[] = [];
  const problems: LoadProblem[] = [];
  let files: string[];
  try {
    files = await yamlFiles(dir);
  } catch (error) {
    io.stderr(`tessera check: cannot read ${dir}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  for (const file of files) {
    const shown = relative(process.cwd(), file) || file;
    const text = await readFile(file, "utf8");
    parseAllDocuments(text).forEach((doc, index) => {
      const [first] = doc.errors;
      if (first !== undefined) {
        problems.push({ file: shown, message: `document ${index}: ${first.message}` });
        return;
      }
      documents.push({ file: shown, index, value: doc.toJS() });
    });
  }
  const report = checkDocuments(documents, problems);
  io.stdout(formatReport(report));
  return report.ok ? 0 : 1;
}

/** Every .yaml/.yml file under dir, sorted, so the report reads the same on every machine. */
async function yamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}
