// Part 2: the sidecar's cost per pod: idle RSS after serving and start-to-ready vs a bare node:http server, cached-token throughput.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  DEFAULT_TESSERA_AUDIENCE,
  ENV_ISSUER_CA_FILE,
  ENV_ISSUER_URL,
  ENV_LOG_LEVEL,
  ENV_SIDECAR_PORT,
  ENV_SUBJECT_TOKEN_FILE,
  ENV_TOKEN_DIR,
  ENV_TOKENS,
  SIDECAR_GUARD_HEADER,
} from "../../api/constants.ts";
import { freeLoopbackPort } from "../../test/controlplane/ports.ts";
import { createPod, mintProjectedToken, writeProjectedTokenFile } from "../../test/integration/support/index.ts";
import { bundleSidecar, SIDECAR_ENTRY } from "../../sidecar/bundle.ts";
import { bundle } from "../bundle.ts";
import { BenchChild, waitUntil } from "../child.ts";
import { sleep } from "../concurrency.ts";
import type { BenchContext } from "../context.ts";
import type { ControllerProcess } from "../controller-process.ts";
import { median, ratio } from "../stats.ts";
import { runWrk } from "../wrk.ts";
import { wrkErrorCount, type WrkResult } from "../wrk-output.ts";
import { BENCH_AUDIENCE, BENCH_SERVICE_ACCOUNT } from "../policies.ts";

const PART = "2. Sidecar";
const MiB = 1024 * 1024;
const BARE_ENTRY = "bench/servers/bare-http.ts";

export interface SidecarFiles {
  readonly caFile: string;
  readonly subjectTokenFile: string;
  readonly tokenDir: string;
}

/** How both processes are started: a variant changes the sidecar and its bare baseline alike. */
interface Variant {
  readonly label: string;
  readonly sidecar: string;
  readonly bare: string;
  readonly loader: "tsx" | "plain";
  readonly nodeArgs: readonly string[];
  /** Measure cached-token throughput too (the other variants only start and idle). */
  readonly throughput: boolean;
}

/** V8 flags that trade peak allocation speed for a smaller heap: young generation 1 MiB semi-spaces, old space capped. */
const SMALL_HEAP_FLAGS = ["--max-semi-space-size=1", "--max-old-space-size=32"];

/** A pod in `namespace`, its projected token file and the issuer CA file, as the injected volumes would hold them. */
export async function sidecarFiles(ctx: BenchContext, controller: ControllerProcess, namespace: string, podName: string): Promise<SidecarFiles> {
  const dir = join(ctx.scratchDir, podName);
  await mkdir(dir, { recursive: true });
  const pod = await createPod(namespace, { name: podName, serviceAccountName: BENCH_SERVICE_ACCOUNT, labels: { tier: "gold" } }, ctx.clients);
  const token = await mintProjectedToken({ namespace, serviceAccount: BENCH_SERVICE_ACCOUNT, pod, audience: DEFAULT_TESSERA_AUDIENCE, expirationSeconds: 3600 }, ctx.clients);
  const subjectTokenFile = await writeProjectedTokenFile(join(dir, "subject"), token);
  const caFile = join(dir, "ca.crt");
  await writeFile(caFile, controller.caPem);
  const tokenDir = join(dir, "tokens");
  await mkdir(tokenDir, { recursive: true });
  return { caFile, subjectTokenFile, tokenDir };
}

export interface SpawnOptions {
  readonly name?: string;
  readonly script?: string;
  readonly loader?: "tsx" | "plain";
  readonly nodeArgs?: readonly string[];
}

/** Starts the sidecar with the injected container's settings, pinned to the server CPU. */
export function spawnSidecar(ctx: BenchContext, controller: ControllerProcess, files: SidecarFiles, port: number, options: SpawnOptions = {}): BenchChild {
  const name = options.name ?? "sidecar";
  return new BenchChild({
    name,
    script: options.script ?? SIDECAR_ENTRY,
    loader: options.loader ?? "tsx",
    cpu: ctx.cpus.server,
    nodeArgs: options.nodeArgs ?? [],
    logFile: join(ctx.scratchDir, `${name}-${port}.log`),
    env: {
      [ENV_ISSUER_URL]: controller.issuerUrl,
      [ENV_ISSUER_CA_FILE]: files.caFile,
      [ENV_SUBJECT_TOKEN_FILE]: files.subjectTokenFile,
      [ENV_TOKEN_DIR]: files.tokenDir,
      [ENV_TOKENS]: JSON.stringify([{ name: "payments", audience: BENCH_AUDIENCE }]),
      [ENV_SIDECAR_PORT]: String(port),
      [ENV_LOG_LEVEL]: "info",
    },
  });
}

function spawnBare(ctx: BenchContext, variant: Variant, port: number, bodyBytes: number): BenchChild {
  return new BenchChild({ name: "bare node:http", script: variant.bare, loader: variant.loader, nodeArgs: variant.nodeArgs, cpu: ctx.cpus.server, env: { BENCH_PORT: String(port), BENCH_BODY_BYTES: String(bodyBytes) } });
}

const ok = async (url: string): Promise<boolean> => (await fetch(url)).status === 200;
const TOKEN_PATH = "/v1/token?name=payments";
const GUARD = { [SIDECAR_GUARD_HEADER]: "true" };
/** Headers whose values differ between any two responses or servers by nature, left out of the comparison. */
const PER_RESPONSE_HEADERS = new Set(["date"]);

/** What a cached-token answer looks like on the wire, without its content: the no-op must match it. */
interface ResponseShape {
  readonly status: number;
  readonly bodyBytes: number;
  readonly headers: string;
}

async function responseShape(port: number): Promise<ResponseShape> {
  const res = await fetch(`http://127.0.0.1:${port}${TOKEN_PATH}`, { headers: GUARD });
  const bodyBytes = (await res.arrayBuffer()).byteLength;
  const headers = [...res.headers.entries()]
    .filter(([name]) => !PER_RESPONSE_HEADERS.has(name))
    .map(([name, value]) => `${name}: ${name === "content-length" ? "(length)" : value}`)
    .sort()
    .join("; ");
  return { status: res.status, bodyBytes, headers };
}

/** Fails the run when the ceiling does not answer with the sidecar's status, body length and headers. */
async function checkSameResponse(sidecarPort: number, barePort: number): Promise<void> {
  const [sidecar, bare] = await Promise.all([responseShape(sidecarPort), responseShape(barePort)]);
  if (sidecar.status !== 200 || JSON.stringify(sidecar) !== JSON.stringify(bare)) {
    throw new Error(`the no-op does not answer like the sidecar: sidecar ${JSON.stringify(sidecar)}, no-op ${JSON.stringify(bare)}`);
  }
}

/** One server's share of a side-by-side run. */
interface Served {
  readonly requests: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly p99Ms: number;
  readonly requestsPerSecond: number;
  readonly requestsPerCpuSecond: number;
}

interface Target {
  readonly child: BenchChild;
  readonly port: number;
}

/**
 * Loads the sidecar and the no-op at the same time, each with its own wrk: both servers are pinned to the same CPU
 * and both wrk processes to the load CPU, so whatever else the shared machine runs meanwhile slows both alike. Run
 * one after the other, the two figures came from different moments of a machine whose load moved by a factor of
 * five within a minute. Requests per CPU-second is counted too: it is what each could serve with the CPU to
 * itself, and it stays honest when the load CPU rather than the servers limits the rate.
 */
async function sideBySide(ctx: BenchContext, a: Target, b: Target): Promise<[Served, Served]> {
  const seconds = ctx.durations.loadSeconds;
  const cpuBefore = await Promise.all([a.child.cpuSeconds(), b.child.cpuSeconds()]);
  const [ra, rb] = await Promise.all([load(ctx, a.port, seconds), load(ctx, b.port, seconds)]);
  const cpuAfter = await Promise.all([a.child.cpuSeconds(), b.child.cpuSeconds()]);
  const served = (target: Target, result: WrkResult, cpuSeconds: number): Served => {
    checked(target.child.name, result);
    return {
      requests: result.requests,
      seconds: result.durationSeconds,
      cpuSeconds,
      p99Ms: result.latencyMs.p99,
      requestsPerSecond: result.requestsPerSecond,
      requestsPerCpuSecond: cpuSeconds > 0 ? result.requests / cpuSeconds : Number.NaN,
    };
  };
  return [served(a, ra, cpuAfter[0] - cpuBefore[0]), served(b, rb, cpuAfter[1] - cpuBefore[1])];
}

/** The byte length of the sidecar's answer for a held token, so the no-op can write as many. */
async function sidecarBodyBytes(ctx: BenchContext, controller: ControllerProcess, files: SidecarFiles, script: string): Promise<number> {
  const port = await freeLoopbackPort();
  const sidecar = spawnSidecar(ctx, controller, files, port, { name: "sidecar (body size)", script, loader: "plain" });
  try {
    await waitUntil(sidecar, "ready with a token", () => ok(`http://127.0.0.1:${port}/readyz`), 30_000);
    const shape = await responseShape(port);
    if (shape.status !== 200) throw new Error(`sidecar answered ${shape.status} for a configured token`);
    return shape.bodyBytes;
  } finally {
    await sidecar.stop();
  }
}

function checked(what: string, result: WrkResult): WrkResult {
  if (wrkErrorCount(result) > 0) throw new Error(`${what}: wrk counted errors ${JSON.stringify(result.errors)}`);
  return result;
}

async function load(ctx: BenchContext, port: number, seconds: number): Promise<WrkResult> {
  return runWrk({ url: `http://127.0.0.1:${port}`, method: "GET", path: TOKEN_PATH, connections: ctx.connections, headers: GUARD, cpu: ctx.cpus.load, durationSeconds: seconds });
}

async function measureVariant(ctx: BenchContext, controller: ControllerProcess, files: SidecarFiles, variant: Variant, bodyBytes: number): Promise<void> {
  const spawn = (port: number): BenchChild => spawnSidecar(ctx, controller, files, port, { name: "sidecar", script: variant.sidecar, loader: variant.loader, nodeArgs: variant.nodeArgs });
  // Start to ready (first token held), several cold starts; the bare server's start to listening is the floor.
  const sidecarStarts: number[] = [];
  const bareStarts: number[] = [];
  for (let i = 0; i < ctx.durations.sidecarStarts; i++) {
    const port = await freeLoopbackPort();
    const sidecar = spawn(port);
    sidecarStarts.push((await waitUntil(sidecar, "ready with a token", () => ok(`http://127.0.0.1:${port}/readyz`), 30_000, 5)) - sidecar.startedAt);
    await sidecar.stop();
    const barePort = await freeLoopbackPort();
    const bare = spawnBare(ctx, variant, barePort, bodyBytes);
    bareStarts.push((await waitUntil(bare, "listening", () => ok(`http://127.0.0.1:${barePort}/`), 30_000, 5)) - bare.startedAt);
    await bare.stop();
  }
  const startMs = median(sidecarStarts);
  const bareStartMs = median(bareStarts);

  // Serve (measured, or a short load only so RSS is "after serving"), then idle, then read RSS.
  const port = await freeLoopbackPort();
  const sidecar = spawn(port);
  await waitUntil(sidecar, "ready with a token", () => ok(`http://127.0.0.1:${port}/readyz`), 30_000);
  const barePort = await freeLoopbackPort();
  const bare = spawnBare(ctx, variant, barePort, bodyBytes);
  await waitUntil(bare, "listening", () => ok(`http://127.0.0.1:${barePort}/`));
  await checkSameResponse(port, barePort);
  await load(ctx, port, ctx.durations.warmupSeconds);
  await load(ctx, barePort, ctx.durations.warmupSeconds);
  const throughput = variant.throughput ? await sideBySide(ctx, { child: sidecar, port }, { child: bare, port: barePort }) : undefined;
  await sleep(3_000);
  const rss = await sidecar.rssBytes();
  const bareRss = await bare.rssBytes();
  await sidecar.stop();
  await bare.stop();
  ctx.log(`sidecar (${variant.label}): start ${startMs.toFixed(0)} ms (bare ${bareStartMs.toFixed(0)}), RSS ${(rss / MiB).toFixed(1)} MiB (bare ${(bareRss / MiB).toFixed(1)})${throughput === undefined ? "" : `, ${Math.round(throughput[0].requestsPerSecond)} req/s (bare ${Math.round(throughput[1].requestsPerSecond)}), ${Math.round(throughput[0].requestsPerCpuSecond)} req/CPU-s (bare ${Math.round(throughput[1].requestsPerCpuSecond)})`}`);

  const how = variant.label;
  ctx.figures.push(
    { part: PART, measure: `Idle RSS after serving (${how})`, value: rss / MiB, unit: "MiB", reference: { name: "bare node:http, same start and load", value: bareRss / MiB }, ratio: ratio(rss, bareRss), target: { text: "≤ 1.4×", met: ratio(rss, bareRss) <= 1.4 } },
    { part: PART, measure: `Start to ready with first token (${how})`, value: startMs, unit: "ms", reference: { name: "bare node:http start to listening", value: bareStartMs }, ratio: ratio(startMs, bareStartMs), target: { text: "< 1 s", met: startMs < 1000 }, note: `median of ${sidecarStarts.length} cold starts, max ${Math.round(Math.max(...sidecarStarts))} ms` },
  );
  if (throughput !== undefined) {
    const [served, bareServed] = throughput;
    const reference = "no-op node:http, same response size and headers";
    const perSecond = ratio(served.requestsPerSecond, bareServed.requestsPerSecond);
    const perCpu = ratio(served.requestsPerCpuSecond, bareServed.requestsPerCpuSecond);
    const pct = (share: number): string => `${Math.round(share * 100)} %`;
    ctx.figures.push(
      { part: PART, measure: `Cached-token throughput (${how})`, value: served.requestsPerSecond, unit: "req/s", reference: { name: reference, value: bareServed.requestsPerSecond }, ratio: perSecond, target: { text: "≥ 0.8×", met: perSecond >= 0.8 }, note: `both loaded at once, side by side; ${bodyBytes}-byte body; p99 ${served.p99Ms.toFixed(2)} ms vs ${bareServed.p99Ms.toFixed(2)} ms` },
      { part: PART, measure: `Cached-token requests per server CPU-second (${how})`, value: served.requestsPerCpuSecond, unit: "req/CPU-s", reference: { name: reference, value: bareServed.requestsPerCpuSecond }, ratio: perCpu, target: { text: "≥ 0.8×", met: perCpu >= 0.8 }, note: `server CPU used: sidecar ${pct(served.cpuSeconds / served.seconds)}, no-op ${pct(bareServed.cpuSeconds / bareServed.seconds)}` },
    );
  }
}

export async function benchSidecar(ctx: BenchContext, controller: ControllerProcess, namespace: string): Promise<void> {
  const files = await sidecarFiles(ctx, controller, namespace, "sidecar-cost");
  // The bundle `npm run build` writes and the image runs, built the same way into the scratch directory.
  const sidecarBundle = await bundleSidecar(join(ctx.scratchDir, "sidecar", "tessera-sidecar.mjs"));
  const bareBundle = await bundle(BARE_ENTRY, ctx.scratchDir, "bare-http");
  const bodyBytes = await sidecarBodyBytes(ctx, controller, files, sidecarBundle);
  const variants: Variant[] = [
    { label: "node --import tsx, as the tests run it", sidecar: SIDECAR_ENTRY, bare: BARE_ENTRY, loader: "tsx", nodeArgs: [], throughput: true },
    { label: "esbuild bundle, plain node, as the image runs it", sidecar: sidecarBundle, bare: bareBundle, loader: "plain", nodeArgs: [], throughput: true },
    { label: `bundle + ${SMALL_HEAP_FLAGS.join(" ")}`, sidecar: sidecarBundle, bare: bareBundle, loader: "plain", nodeArgs: SMALL_HEAP_FLAGS, throughput: false },
  ];
  for (const variant of variants) await measureVariant(ctx, controller, files, variant, bodyBytes);
  await measureModuleLoading(ctx, sidecarBundle);
}

/** Exit code of the sidecar when its configuration is refused (sidecar/src/main.ts). */
const CONFIG_ERROR_EXIT = 2;

/** Milliseconds from spawn to exit of `script` run by plain node with no configuration; checks its exit code. */
async function spawnToExit(ctx: BenchContext, name: string, script: string, expectedExit: number): Promise<number> {
  const child = new BenchChild({ name, script, loader: "plain", cpu: ctx.cpus.server, env: {} });
  const code = await child.exited(30_000);
  const ms = performance.now() - child.startedAt;
  if (code !== expectedExit) throw new Error(`${name} exited with ${String(code)}, expected ${expectedExit}:\n${child.output()}`);
  return ms;
}

/**
 * What lazy imports could buy: the bundle started without configuration evaluates every module it has (node:http,
 * https and tls, pino, Tessera's own code) and exits at the configuration check, before any I/O. Its time over
 * node running an empty file bounds what deferring imports could save at start.
 */
async function measureModuleLoading(ctx: BenchContext, sidecarBundle: string): Promise<void> {
  const empty = join(ctx.scratchDir, "empty.mjs");
  await writeFile(empty, "");
  const runs = Math.max(5, 2 * ctx.durations.sidecarStarts);
  const bare: number[] = [];
  const loaded: number[] = [];
  for (let i = 0; i < runs; i++) {
    bare.push(await spawnToExit(ctx, "node, empty file", empty, 0));
    loaded.push(await spawnToExit(ctx, "sidecar bundle, no configuration", sidecarBundle, CONFIG_ERROR_EXIT));
  }
  const loadedMs = median(loaded);
  const bareMs = median(bare);
  ctx.log(`sidecar bundle module loading: ${Math.round(loadedMs)} ms spawn to exit (node on an empty file ${Math.round(bareMs)} ms)`);
  ctx.figures.push({
    part: PART,
    measure: "Spawn to exit with every module loaded (bundle, no configuration: what lazy imports could defer)",
    value: loadedMs,
    unit: "ms",
    reference: { name: "node running an empty file", value: bareMs },
    ratio: ratio(loadedMs, bareMs),
    note: `median of ${runs} each, alternating; ${Math.round(loadedMs - bareMs)} ms of module loading at most to defer`,
  });
}
