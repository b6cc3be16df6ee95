// Runs a short host command (ip, sysctl, umount, ctr, apt-get) and returns its output; a failure names the command.
import { execFile } from "node:child_process";
import { ControlPlaneError, type ControlPlaneErrorCode } from "../errors.ts";

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  /** Error code when the command fails. */
  readonly code?: ControlPlaneErrorCode;
}

export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    execFile(
      command,
      [...args],
      {
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 32 * 1024 * 1024,
        encoding: "utf8",
      },
      (err, stdout, stderr) => {
        if (err !== null) {
          const detail = stderr.trim() !== "" ? stderr.trim() : err.message;
          reject(
            new ControlPlaneError(options.code ?? "NODE_SETUP_FAILED", `${command} ${args.join(" ")} failed: ${detail}`, {
              cause: err,
            }),
          );
        } else {
          resolveRun({ stdout, stderr });
        }
      },
    );
  });
}
