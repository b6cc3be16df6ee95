// Runs wrk (pinned to the load CPU) with bench/rotate.lua and returns its parsed summary.
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "../test/integration/support/crds.ts";
import { pinned } from "./child.ts";
import { parseWrkOutput, type WrkResult } from "./wrk-output.ts";

export const WRK_INSTALL_HINT = "apt-get update && apt-get install -y wrk";

/** Throws with the install command when wrk or taskset is missing: the bench measures nothing without them. */
export function checkTools(): void {
  for (const [tool, args, hint] of [
    ["wrk", ["--version"], WRK_INSTALL_HINT],
    ["taskset", ["--version"], "apt-get install -y util-linux"],
  ] as const) {
    const result = spawnSync(tool, args, { stdio: "ignore" });
    if (result.error !== undefined) {
      throw new Error(`the bench needs ${tool}, which was not found on PATH; install it with: ${hint}`);
    }
  }
}

export interface WrkRun {
  readonly url: string;
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly connections: number;
  readonly durationSeconds: number;
  /** One request body per line, rotated across requests. */
  readonly bodiesFile?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Pause per connection between requests, to hold a rate below the maximum. */
  readonly delayMs?: number;
  readonly cpu: number | undefined;
}

export async function runWrk(run: WrkRun): Promise<WrkResult> {
  const args = [
    "-t1",
    `-c${run.connections}`,
    `-d${run.durationSeconds}s`,
    "--timeout",
    "10s",
    "-s",
    join(REPO_ROOT, "bench", "rotate.lua"),
    run.url,
    "--",
    run.method,
    run.path,
    run.bodiesFile ?? "-",
    ...Object.entries(run.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
  ];
  const [command, argv] = pinned(run.cpu, "wrk", args);
  const env: Record<string, string> = { PATH: process.env["PATH"] ?? "" };
  if (run.delayMs !== undefined && run.delayMs > 0) env["WRK_DELAY_MS"] = String(Math.round(run.delayMs));
  const child = spawn(command, argv, { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (out += c.toString("utf8")));
  const code = await new Promise<number | null>((resolveExit) => child.on("exit", resolveExit));
  if (code !== 0) throw new Error(`wrk exited with ${String(code)}:\n${out}`);
  return parseWrkOutput(out);
}
