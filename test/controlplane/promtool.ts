// Runs the cached promtool (built from Prometheus' Go module) and returns its exit code and output.
import { execFile } from "node:child_process";
import { ControlPlaneError } from "./errors.ts";

export interface PromtoolResult {
  /** 0 when every check or test passed; promtool prints what failed otherwise. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `promtool <args>` in `cwd`. A non-zero exit is a result, not an error (a test may expect a failure); only a
 * promtool that cannot be started rejects, with PROMTOOL_FAILED.
 */
export function runPromtool(promtoolPath: string, args: readonly string[], cwd: string): Promise<PromtoolResult> {
  return new Promise((resolveRun, reject) => {
    execFile(promtoolPath, [...args], { cwd, maxBuffer: 16 * 1024 * 1024, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err === null) {
        resolveRun({ code: 0, stdout, stderr });
      } else if (typeof err.code === "number") {
        resolveRun({ code: err.code, stdout, stderr });
      } else {
        reject(new ControlPlaneError("PROMTOOL_FAILED", `cannot run promtool ${args.join(" ")}: ${err.message}`, { cause: err }));
      }
    });
  });
}
