#!/usr/bin/env node
// The `tessera` command: dispatches to one subcommand per file; no logic lives here.

import { runCheck } from "./check.ts";
import { runExplain } from "./explain.ts";
import { runTest } from "./test.ts";
import { runWhoCan } from "./who-can.ts";

const USAGE = `Usage: tessera <command> [args]

Commands:
  check <dir>   compile the policies under <dir> and check them against guardrails
  explain       what a pod would get, and why (tessera explain --help)
  test <dir>... run the TokenPolicyTest suites under <dir> against the manifests there (tessera test --help)
  who-can AUDIENCE [SCOPE]
                which service accounts can obtain a token, from manifests or a cluster (tessera who-can --help)
`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const io = {
    stdout: (text: string) => process.stdout.write(text),
    stderr: (text: string) => process.stderr.write(text),
    now: () => new Date(),
  };
  switch (command) {
    case "check":
      return runCheck(rest, io);
    case "explain":
      return runExplain(rest, io);
    case "test":
      return runTest(rest, io);
    case "who-can":
      return runWhoCan(rest, io);
    case "--help":
    case "-h":
    case "help":
      io.stdout(USAGE);
      return 0;
    default:
      io.stderr(command === undefined ? USAGE : `tessera: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
