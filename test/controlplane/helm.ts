// Runs the cached helm binary (built from its Go module) and returns its output.
import { execFile } from "node:child_process";
import { ControlPlaneError } from "./errors.ts";
import { KUBE_VERSION } from "./versions.ts";

export interface HelmResult {
  readonly stdout: string;
  readonly stderr: string;
}

export interface HelmOptions {
  readonly cwd?: string;
  /** Environment of helm; pass HELM_CACHE_HOME etc. to keep it off the user's home. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs `helm <args>`; rejects with HELM_FAILED (stderr in the message) on a non-zero exit. */
export function runHelm(helmPath: string, args: readonly string[], options: HelmOptions = {}): Promise<HelmResult> {
  return new Promise((resolveRun, reject) => {
    execFile(
      helmPath,
      [...args],
      { cwd: options.cwd, env: options.env, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (err, stdout, stderr) => {
        if (err !== null) {
          reject(new ControlPlaneError("HELM_FAILED", `helm ${args.join(" ")} failed: ${stderr || err.message}`, { cause: err }));
        } else {
          resolveRun({ stdout, stderr });
        }
      },
    );
  });
}

/**
 * `helm template` pinned to the control plane's Kubernetes version (without --kube-version helm assumes v1.20 and
 * chart conditions on Capabilities go the wrong way).
 */
export async function helmTemplate(
  helmPath: string,
  release: string,
  chartDir: string,
  extraArgs: readonly string[] = [],
  options: HelmOptions = {},
): Promise<string> {
  const result = await runHelm(
    helmPath,
    ["template", release, chartDir, "--kube-version", KUBE_VERSION, ...extraArgs],
    options,
  );
  return result.stdout;
}
