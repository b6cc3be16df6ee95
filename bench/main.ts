// `npm run bench`: starts the local control plane and the real controller, measures every part in one run, writes docs/benchmarks.{md,json}.
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBinaries } from "../test/controlplane/build.ts";
import { loadControlPlaneConfig } from "../test/controlplane/config.ts";
import { startControlPlane } from "../test/controlplane/harness.ts";
import { applyCrds, kubeClients, REPO_ROOT } from "../test/integration/support/index.ts";
import { compileController } from "./compile.ts";
import { DURATIONS, parseBenchArgs } from "./args.ts";
import { BENCH_NICENESS } from "./child.ts";
import type { BenchContext } from "./context.ts";
import { startControllerProcess } from "./controller-process.ts";
import type { BenchResult } from "./figures.ts";
import { mergeWithPrevious } from "./merge.ts";
import { describeMachine } from "./machine.ts";
import { benchAdmission } from "./parts/admission.ts";
import { benchCelBudget } from "./parts/cel-budget.ts";
import { benchIssuance, prepareIssuance, profileIssuance, tokenReviewIssuance } from "./parts/issuance.ts";
import { benchPropagation } from "./parts/propagation.ts";
import { benchScale } from "./parts/scale.ts";
import { benchSidecar } from "./parts/sidecar.ts";
import { benchVerify } from "./parts/verify.ts";
import { renderSection, spliceSection } from "./report.ts";
import { checkTools } from "./wrk.ts";

const CONNECTIONS = 32;

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** Server under test on CPU 0; wrk, this process and (inherited by them) etcd and the apiserver on CPU 1. */
function assignCpus(count: number): { cpus: BenchContext["cpus"]; sharing: string } {
  if (count < 2) return { cpus: { server: undefined, load: undefined }, sharing: "one CPU: nothing pinned; every figure shares it with wrk" };
  const pinned = spawnSync("taskset", ["-apc", "1", String(process.pid)], { stdio: "ignore" });
  if (pinned.status !== 0) throw new Error("taskset could not pin the bench process to CPU 1");
  return {
    cpus: { server: 0, load: 1 },
    sharing:
      "taskset pins each server under test (the controller, the sidecar, and every ceiling and peer) to CPU 0, alone; " +
      `wrk (1 thread, ${CONNECTIONS} connections unless stated), the bench process, etcd and kube-apiserver share CPU 1. ` +
      `Servers and wrk run at niceness ${BENCH_NICENESS} when the bench runs as root. ` +
      "The machine is shared with other work, so only ratios within one run are compared.",
  };
}

/** The last run's result, whose rows of parts not run this time are kept; none when there is no readable file. */
async function readPrevious(path: string): Promise<BenchResult | undefined> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as BenchResult);
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  checkTools();
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const machine = describeMachine();
  const { cpus, sharing } = assignCpus(machine.cpus);
  // Scale creates 10,000 pods, which alone takes most of the quick profile's 5 minutes: only with --full or --parts=5.
  const want = (part: number): boolean => (args.parts === undefined ? part !== 5 || args.profile === "full" : args.parts.includes(part));

  const config = loadControlPlaneConfig(process.env);
  const binaries = await ensureBinaries({ cacheDir: config.cacheDir, env: process.env, names: ["kube-apiserver", "etcd"], log });
  // Every part runs the controller as the image does (tsc output, plain node); compiled while the control plane starts.
  const controllerOut = join(REPO_ROOT, "dist", "bench");
  const compiled = compileController(controllerOut, cpus.load);
  // Awaited below; this only keeps a failed compile from being an unhandled rejection while the control plane starts.
  compiled.catch(() => undefined);
  const controlPlane = await startControlPlane({ binaries, log });
  const controllerScript = await compiled.catch(async (error: unknown) => {
    await controlPlane.stop();
    throw error;
  });
  const scratchDir = await mkdtemp(join(tmpdir(), "tessera-bench-"));
  const clients = kubeClients(controlPlane.kubeConfig);
  const ctx: BenchContext = { controlPlane, clients, cpus, durations: DURATIONS[args.profile], connections: CONNECTIONS, scratchDir, controllerScript, profileDir: args.profileDir, log, figures: [] };
  const skipped: { part: string; reason: string }[] = [];
  const controllers: { child: { stop(graceMs?: number): Promise<unknown> } }[] = [];
  try {
    await applyCrds(clients);
    const controller = await startControllerProcess(ctx, { name: "bench", subjectVerification: "jwks" });
    controllers.push(controller);
    log(`controller ready in ${Math.round(controller.readyAfterMs)} ms`);
    let issuance: Awaited<ReturnType<typeof benchIssuance>> | undefined;
    // Parts 2 and 3 reuse issuance's namespace (a ServiceAccount and a policy); without part 1 they get their own.
    if (want(1)) {
      issuance = await benchIssuance(ctx, controller);
      await profileIssuance(ctx, issuance.setup.bodiesFile);
      await tokenReviewIssuance(ctx, issuance.setup.bodiesFile, issuance.maxRate);
    }
    if (want(2)) await benchSidecar(ctx, controller, issuance?.setup.namespace ?? (await prepareIssuance(ctx, 1, "sidecar")).namespace);
    if (want(3)) await benchAdmission(ctx, controller);
    if (want(4)) await benchPropagation(ctx, controller);
    if (want(6)) await benchVerify(ctx);
    if (want(7)) await benchCelBudget(ctx, controller);
    // Last: it stops the shared controller, and its 10,000 pods would slow every part after it.
    if (want(5)) await benchScale(ctx, controller);
    else skipped.push({ part: "5. Scale", reason: "not in the quick profile: it runs with --full or --parts=5 (10,000 pods and 1,000 policies)" });
  } finally {
    await Promise.allSettled(controllers.map((c) => c.child.stop()));
    await controlPlane.stop();
  }

  const measured: BenchResult = {
    profile: args.profile,
    startedAt,
    durationSeconds: (performance.now() - started) / 1000,
    machine: {
      cpuModel: machine.cpuModel,
      cpus: machine.cpus,
      memoryGiB: machine.memoryGiB,
      kernel: machine.kernel,
      node: machine.node,
      wrk: machine.wrk,
      loadAverageAtStart: machine.loadAverage,
      loadAverageAtEnd: loadavg(),
      cpuSharing: sharing,
    },
    figures: ctx.figures,
    ...(ctx.cpuProfile === undefined ? {} : { cpuProfile: ctx.cpuProfile }),
    skipped,
  };
  const jsonPath = join(REPO_ROOT, "docs", "benchmarks.json");
  const previous = args.write ? await readPrevious(jsonPath) : undefined;
  const result = mergeWithPrevious(measured, previous, [1, 2, 3, 4, 5, 6, 7].filter(want));
  const section = renderSection(result);
  process.stdout.write(`${section}\n`);
  if (args.write) {
    const docPath = join(REPO_ROOT, "docs", "benchmarks.md");
    const doc = await readFile(docPath, "utf8").catch(() => "# Benchmarks\n");
    await writeFile(docPath, spliceSection(doc, section));
    await writeFile(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
    log("wrote docs/benchmarks.md and docs/benchmarks.json");
  }
  await rm(scratchDir, { recursive: true, force: true });
  await rm(controllerOut, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
