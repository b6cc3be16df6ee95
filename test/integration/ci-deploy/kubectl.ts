// Runs the real kubectl on PATH against a kubeconfig, and kubeconfigs for it.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse, stringify } from "yaml";

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** kubectl with only this kubeconfig and a private cache directory; never throws on a non-zero exit. */
export function kubectl(kubeconfig: string, scratchDir: string, args: readonly string[], stdin?: string): Promise<KubectlResult> {
  return runKubectl("kubectl", kubeconfig, scratchDir, args, stdin);
}

/** As kubectl(), with the kubectl at `binary` (the node tier's, built with the cluster's release). */
export function runKubectl(
  binary: string,
  kubeconfig: string,
  scratchDir: string,
  args: readonly string[],
  stdin?: string,
): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      binary,
      [`--kubeconfig=${kubeconfig}`, `--cache-dir=${join(scratchDir, "kubectl-cache")}`, ...args],
      { env: { PATH: process.env["PATH"] ?? "", HOME: scratchDir }, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== "number") {
          reject(new Error(`kubectl did not run: ${error.message}`));
          return;
        }
        resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
    child.stdin?.end(stdin);
  });
}

/**
 * The example Job's kubeconfig (examples/ci-deploy/release-job.yaml), pointed at this run's apiserver, CA file and
 * token directory instead of the in-pod paths; everything else, tokenFile included, stays as the example has it.
 */
export async function jobKubeconfig(
  exampleKubeconfig: string,
  target: { readonly server: string; readonly caFile: string; readonly tokenDir: string; readonly path: string },
): Promise<string> {
  const config = parse(exampleKubeconfig) as {
    clusters: { cluster: Record<string, unknown> }[];
    users: { user: { tokenFile?: string } }[];
  };
  for (const { cluster } of config.clusters) {
    cluster["server"] = target.server;
    cluster["certificate-authority"] = target.caFile;
  }
  for (const { user } of config.users) {
    if (user.tokenFile === undefined) throw new Error("the example kubeconfig has no tokenFile");
    user.tokenFile = join(target.tokenDir, user.tokenFile.split("/").at(-1) ?? "");
  }
  await writeFile(target.path, stringify(config), { mode: 0o600 });
  return target.path;
}
