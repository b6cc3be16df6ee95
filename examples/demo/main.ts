// `npm run demo`: Tessera's quick start. Brings up (or connects to) a cluster, runs the demo steps, prints the outcome.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadControlPlaneConfig } from "../../test/controlplane/config.ts";
import { acquireCluster, type DemoCluster } from "./cluster.ts";
import { DemoUsageError, loadDemoConfig, USAGE } from "./config.ts";
import { renderJson, renderTable, type DemoReport } from "./report.ts";
import { DEMO_STEPS } from "./steps.ts";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

async function main(): Promise<number> {
  let config;
  try {
    const loaded = loadDemoConfig(
      process.argv.slice(2),
      process.env,
      process.stdout.isTTY,
      loadControlPlaneConfig(process.env).cacheDir,
    );
    if (loaded === "help") {
      console.log(USAGE);
      return 0;
    }
    config = loaded;
  } catch (err) {
    if (err instanceof DemoUsageError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  // Progress goes to stderr so that --json leaves stdout to the document.
  const log = (line: string): void => {
    console.error(`· ${line}`);
  };

  let cluster: DemoCluster | undefined;
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping`);
    void (cluster?.stop() ?? Promise.resolve()).finally(() => {
      process.exit(130);
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    cluster = await acquireCluster(config, log);
    const steps: DemoReport["steps"][number][] = [];
    for (const step of DEMO_STEPS) {
      log(step.title);
      steps.push({ title: step.title, rows: await step.run({ cluster, repoRoot }) });
    }
    const report: DemoReport = {
      cluster: { source: cluster.source, server: cluster.server, version: cluster.version },
      steps,
      ok: steps.every((s) => s.rows.every((r) => r.result !== "failed")),
    };
    console.log(config.json ? renderJson(report) : renderTable(report, config.color));
    return report.ok ? 0 : 1;
  } finally {
    await cluster?.stop();
  }
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
}
