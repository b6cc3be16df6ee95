// `npm run demo`: Tessera's quick start. Brings up (or connects to) a cluster, runs the whole flow, cleans up, prints the outcome.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CoreV1Api } from "@kubernetes/client-node";
import { kubeClientFromConfig } from "../../controller/src/kube/kube-http.ts";
import { loadControlPlaneConfig } from "../../test/controlplane/config.ts";
import { Cleanup, type CleanupResult } from "./cleanup.ts";
import { acquireCluster, type DemoCluster } from "./cluster.ts";
import { DemoUsageError, loadDemoConfig, USAGE, type DemoConfig } from "./config.ts";
import { renderJson, renderTable, type DemoReport, type DemoSection } from "./report.ts";
import { DemoRunner, DemoStopped, describeError } from "./runner.ts";
import { runDemoSteps } from "./steps.ts";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function configOrExit(): DemoConfig | number {
  try {
    const loaded = loadDemoConfig(process.argv.slice(2), process.env, process.stdout.isTTY, loadControlPlaneConfig(process.env).cacheDir);
    if (loaded === "help") {
      console.log(USAGE);
      return 0;
    }
    return loaded;
  } catch (err) {
    if (err instanceof DemoUsageError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
}

function cleanupSection(results: readonly CleanupResult[], elapsedMs: number): DemoSection {
  return {
    id: "cleanup",
    title: "Clean up what the demo started",
    ok: results.every((r) => r.ok),
    elapsedMs,
    rows: results.map((r) => ({ label: r.ok ? "done" : "FAILED", value: r.ok ? r.what : `${r.what}: ${r.error ?? ""}`, failed: !r.ok })),
    data: { results },
  };
}

async function main(): Promise<number> {
  const config = configOrExit();
  if (typeof config === "number") return config;
  const started = Date.now();
  // Progress goes to stderr so that --json leaves stdout to the document.
  const log = (line: string): void => {
    console.error(`· ${line}`);
  };
  const cleanup = new Cleanup();
  const interrupted = new AbortController();
  let cluster: DemoCluster | undefined;
  const finish = async (): Promise<CleanupResult[]> => {
    const results = await cleanup.run();
    if (cluster !== undefined && cluster.source !== "KUBECONFIG") {
      try {
        await cluster.stop();
        return [...results, { what: "stopped the local control plane (etcd, kube-apiserver)", ok: true }];
      } catch (err) {
        return [...results, { what: "stopping the local control plane", ok: false, error: describeError(err) }];
      }
    }
    return results;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted.signal.aborted) {
      log(`${signal} again: exiting without finishing the clean-up`);
      process.exit(130);
    }
    interrupted.abort();
    log(`${signal}: cleaning up`);
    void finish().then((results) => {
      for (const r of results) log(r.ok ? r.what : `FAILED ${r.what}: ${r.error ?? ""}`);
      // Stopped on request and cleaned up: that is a success for whoever pressed Ctrl-C.
      process.exit(results.every((r) => r.ok) ? 0 : 1);
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const tempDir = await mkdtemp(join(tmpdir(), "tessera-demo-"));
  cleanup.add("removed the temporary files", () => rm(tempDir, { recursive: true, force: true }));
  const runner = new DemoRunner({ log, now: () => Date.now(), signal: interrupted.signal });
  try {
    cluster = await acquireCluster(config, log);
    await runDemoSteps(runner, {
      cluster,
      repoRoot,
      kube: kubeClientFromConfig(cluster.kubeConfig),
      core: cluster.kubeConfig.makeApiClient(CoreV1Api),
      cleanup,
      tempDir,
      runId: randomBytes(3).toString("hex"),
      now: () => Date.now(),
    });
  } catch (err) {
    if (interrupted.signal.aborted) return new Promise<number>(() => undefined); // the signal handler exits
    // A stop before any cluster came up has nothing to report on: it fails like any other error.
    if (!(err instanceof DemoStopped) || cluster === undefined) {
      await finish();
      throw err;
    }
  }
  if (interrupted.signal.aborted) return new Promise<number>(() => undefined);
  log("Cleaning up");
  const cleanupStarted = Date.now();
  const results = await finish();
  const sections = [...runner.sections, cleanupSection(results, Date.now() - cleanupStarted)];
  const report: DemoReport = {
    cluster: { source: cluster.source, server: cluster.server, version: cluster.version },
    sections,
    ok: sections.every((s) => s.ok),
    elapsedMs: Date.now() - started,
  };
  console.log(config.json ? renderJson(report) : renderTable(report, config.color));
  return report.ok ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error(`demo failed: ${describeError(err)}`);
  process.exitCode = 1;
}
