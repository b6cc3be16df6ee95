// node --import tsx bench/profile-admission.ts: the controller under node --cpu-prof, answering pod CREATE reviews at part 3's pacing; prints where the time goes.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PATH_MUTATE_PODS } from "../api/constants.ts";
import { ensureBinaries } from "../test/controlplane/build.ts";
import { loadControlPlaneConfig } from "../test/controlplane/config.ts";
import { startControlPlane } from "../test/controlplane/harness.ts";
import { applyCrds, createServiceAccount, freshNamespace, kubeClients, REPO_ROOT } from "../test/integration/support/index.ts";
import { waitSettled } from "./child.ts";
import { compileController } from "./compile.ts";
import type { BenchContext } from "./context.ts";
import { startControllerProcess } from "./controller-process.ts";
import { summarizeProfile, type CpuProfile } from "./cpu-profile.ts";
import { DURATIONS } from "./args.ts";
import { ADMISSION_PACING, admissionReviews } from "./parts/admission.ts";
import { BENCH_SERVICE_ACCOUNT, benchPolicy, createPolicy } from "./policies.ts";
import { runWrk } from "./wrk.ts";

function log(line: string): void {
  process.stderr.write(`[profile ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

async function main(): Promise<void> {
  const seconds = Number(process.env["BENCH_PROFILE_SECONDS"] ?? "20");
  const config = loadControlPlaneConfig(process.env);
  const binaries = await ensureBinaries({ cacheDir: config.cacheDir, env: process.env, names: ["kube-apiserver", "etcd"], log });
  // The controller as the image runs it (tsc output, plain node), like every part of the bench.
  const controllerScript = await compileController(join(REPO_ROOT, "dist", "bench"), undefined);
  const controlPlane = await startControlPlane({ binaries, log });
  const scratchDir = await mkdtemp(join(tmpdir(), "tessera-profile-"));
  const clients = kubeClients(controlPlane.kubeConfig);
  // Unpinned: the profile's shares, not its wall times, are what this reads.
  const ctx: BenchContext = { controlPlane, clients, cpus: { server: undefined, load: undefined }, durations: DURATIONS.quick, connections: 4, scratchDir, controllerScript, log, figures: [] };
  try {
    await applyCrds(clients);
    const dir = join(scratchDir, "cpu-prof");
    const controller = await startControllerProcess(ctx, { name: "profiled", subjectVerification: "jwks", nodeArgs: ["--cpu-prof", "--cpu-prof-dir", dir] });
    const namespace = await freshNamespace("profile-admission", { team: "payments" }, clients);
    await createServiceAccount(namespace, BENCH_SERVICE_ACCOUNT, clients);
    await createPolicy(clients, namespace, benchPolicy(namespace, "payments"));
    const bodies = join(scratchDir, "admission-bodies.txt");
    await writeFile(bodies, admissionReviews(namespace, 50));
    const run = {
      method: "POST" as const,
      path: PATH_MUTATE_PODS,
      connections: ADMISSION_PACING.connections,
      delayMs: ADMISSION_PACING.delayMs,
      bodiesFile: bodies,
      headers: { "content-type": "application/json" },
      cpu: undefined,
      url: `https://127.0.0.1:${controller.admissionPort}`,
    };
    await runWrk({ ...run, durationSeconds: 3 });
    await waitSettled(controller.child);
    const window = { fromMs: performance.now() - controller.child.startedAt };
    const cpuBefore = await controller.child.cpuSeconds();
    const paced = await runWrk({ ...run, durationSeconds: seconds });
    const cpuPerReview = ((await controller.child.cpuSeconds()) - cpuBefore) / paced.requests;
    log(`paced: p50 ${paced.latencyMs.p50.toFixed(2)} ms, p99 ${paced.latencyMs.p99.toFixed(2)} ms at ${Math.round(paced.requestsPerSecond)} req/s, ${(cpuPerReview * 1e6).toFixed(0)} µs of controller CPU per review`);
    await controller.child.stop(20_000);
    const file = (await readdir(dir)).find((f) => f.endsWith(".cpuprofile"));
    if (file === undefined) throw new Error(`node --cpu-prof wrote no profile into ${dir}`);
    const summary = summarizeProfile(JSON.parse(await readFile(join(dir, file), "utf8")) as CpuProfile, window, 15, 40);
    const pct = (share: number): string => `${(share * 100).toFixed(1).padStart(5)} %`;
    process.stdout.write(["By area:", ...summary.byArea.map((e) => `${pct(e.selfShare)}  ${e.frame}`), "", "By function:", ...summary.topFunctions.map((e) => `${pct(e.selfShare)}  ${e.frame}`), ""].join("\n"));
    log(`profile kept at ${join(dir, file)}`);
  } finally {
    await controlPlane.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`profile failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
