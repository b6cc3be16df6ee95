// `tessera check <dir>`: loads every YAML document under a directory and reports each policy's compile and guardrail errors.

import { checkDocuments, formatReport } from "./check-report.ts";
import { loadYaml } from "./manifests/load.ts";

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
  let loaded;
  try {
    loaded = await loadYaml(dir);
  } catch (error) {
    io.stderr(`tessera check: cannot read ${dir}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  const { documents, problems } = loaded;
  const report = checkDocuments(documents, problems);
  io.stdout(formatReport(report));
  return report.ok ? 0 : 1;
}
