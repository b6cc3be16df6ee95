// `npm run demo` end to end, as a person or CI runs it: against a given cluster, and on its own control plane.
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type ControlPlane } from "../../controlplane/harness.ts";
import type { DemoReport } from "../../../examples/demo/report.ts";
import { controlPlaneInfo, REPO_ROOT } from "../support/index.ts";

interface DemoRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runDemo(args: readonly string[], env: NodeJS.ProcessEnv): Promise<DemoRun> {
  return new Promise((resolveRun) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join(REPO_ROOT, "examples", "demo", "main.ts"), ...args],
      { cwd: REPO_ROOT, env, encoding: "utf8", timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
        resolveRun({ code, stdout, stderr });
      },
    );
  });
}

/** The caller's environment minus KUBECONFIG, with the cache that already holds the binaries. */
function demoEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { KUBECONFIG: _ignored, ...rest } = process.env;
  const cacheDir = dirname(dirname(controlPlaneInfo().binaries["kube-apiserver"]));
  return { ...rest, TESSERA_CACHE_DIR: cacheDir, NO_COLOR: "1", ...extra };
}

function allRows(report: DemoReport): DemoReport["steps"][number]["rows"] {
  return report.steps.flatMap((s) => s.rows);
}

describe("npm run demo", () => {
  // A private control plane: the demo applies cluster-wide example policies that other tests must not see.
  let given: ControlPlane;

  beforeAll(async () => {
    given = await startControlPlane({ binaries: controlPlaneInfo().binaries });
  });

  afterAll(async () => {
    await given.stop();
  });

  it("applies the CRDs, namespaces and example policies to the cluster in KUBECONFIG and exits 0", async () => {
    const run = await runDemo(["--json"], demoEnv({ KUBECONFIG: given.kubeconfigPath }));
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as DemoReport;
    expect(report.ok).toBe(true);
    expect(report.cluster).toMatchObject({ source: "KUBECONFIG", server: given.apiserverUrl, version: "v1.34.3" });
    const kinds = new Set(allRows(report).map((r) => r.kind));
    expect([...kinds].sort()).toEqual(["ClusterTokenPolicy", "CustomResourceDefinition", "Namespace", "TokenPolicy"]);
    expect(allRows(report).filter((r) => r.result !== "applied")).toEqual([]);
  });

  it("is idempotent: a second run against the same cluster succeeds too", async () => {
    const run = await runDemo(["--json"], demoEnv({ KUBECONFIG: given.kubeconfigPath }));
    expect(run.code, run.stderr).toBe(0);
  });

  it("starts and stops its own control plane when KUBECONFIG is unset, printing a table for people", async () => {
    const run = await runDemo([], demoEnv({}));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("local control plane: kube-apiserver v1.34.3");
    expect(run.stdout).toMatch(/CustomResourceDefinition\s+tokenpolicies\.tessera\.dev\s+applied\s+Established=True/);
    expect(run.stdout).not.toContain("\u001b[");
  });

  it("refuses an unknown argument with exit code 2", async () => {
    const run = await runDemo(["--bogus"], demoEnv({}));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown argument --bogus");
  });
});
