// Part 1: token exchange through the controller's HTTPS issuer vs a no-op on the same stack, the signing step alone and oidc-provider.
import { copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { freeLoopbackPort } from "../../test/controlplane/ports.ts";
import { exchange } from "../../test/integration/issuer/exchange-harness.ts";
import { createServiceAccount, freshNamespace, waitFor } from "../../test/integration/support/index.ts";
import { BenchChild, waitSettled, waitUntil } from "../child.ts";
import type { BenchContext } from "../context.ts";
import { startControllerProcess, type ControllerProcess } from "../controller-process.ts";
import { summarizeProfile, type CpuProfile } from "../cpu-profile.ts";
import { ratio } from "../stats.ts";
import { runWrk } from "../wrk.ts";
import { wrkErrorCount, type WrkResult } from "../wrk-output.ts";
import { BENCH_AUDIENCE, BENCH_SERVICE_ACCOUNT, benchPolicy, createPolicy, exchangeForm, podsWithTokens } from "../policies.ts";

const pct = (share: number): string => `${Math.round(share * 100)} %`;
const FORM = { "content-type": "application/x-www-form-urlencoded" };
const PART = "1. Issuance";
const PEER_CLIENTS = 200;
/** Connections of the paced run at half the maximum rate. */
const PACED_CONNECTIONS = 8;
/** Maximum-rate runs per server; the best counts. */
const RUNS = 2;

export interface IssuanceSetup {
  readonly bodiesFile: string;
  readonly namespace: string;
}

/** Pods, their projected tokens and a policy; the bodies file wrk rotates through. */
export async function prepareIssuance(ctx: BenchContext, pods: number, label: string): Promise<IssuanceSetup> {
  const namespace = await freshNamespace(`bench-${label}`, { team: "payments" }, ctx.clients);
  await createServiceAccount(namespace, BENCH_SERVICE_ACCOUNT, ctx.clients);
  await createPolicy(ctx.clients, namespace, benchPolicy(namespace, "payments"));
  const tokens = await podsWithTokens(ctx.clients, namespace, pods);
  const bodiesFile = join(ctx.scratchDir, `${label}-bodies.txt`);
  await writeFile(bodiesFile, `${tokens.map(exchangeForm).join("\n")}\n`, { mode: 0o600 });
  return { bodiesFile, namespace };
}

/** Waits until the issuer grants the first body (policy accepted, caches hold the pod); returns the token's length. */
export async function firstGrant(controller: ControllerProcess, bodiesFile: string): Promise<number> {
  const first = (await readFile(bodiesFile, "utf8")).split("\n")[0] ?? "";
  return waitFor(
    async () => {
      const answer = await exchange({ url: controller.issuerUrl, caPem: controller.caPem }, Object.fromEntries(new URLSearchParams(first)));
      if (answer.status !== 200) throw new Error(`exchange answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      const token = (answer.body as { access_token?: unknown }).access_token;
      if (typeof token !== "string") throw new Error("the exchange answered 200 without an access_token");
      return token.length;
    },
    { timeoutMs: 60_000, intervalMs: 250, description: "the first token" },
  );
}

function checked(what: string, result: WrkResult): WrkResult {
  const errors = wrkErrorCount(result);
  if (errors > 0) throw new Error(`${what}: wrk counted ${errors} errors (${JSON.stringify(result.errors)}); the figure would measure failures`);
  return result;
}

/** A wrk run and, when the server process is known, how much CPU it used for it. */
interface Measured extends WrkResult {
  /** Share of one CPU the server used during the run. */
  readonly serverCpuShare: number;
  /** Requests per CPU-second of the server: what it could serve with the CPU to itself. */
  readonly requestsPerCpuSecond: number;
}

async function maxRate(ctx: BenchContext, what: string, url: string, path: string, bodiesFile: string, server: BenchChild, runs = RUNS): Promise<Measured> {
  await runWrk({ url, method: "POST", path, connections: ctx.connections, durationSeconds: ctx.durations.warmupSeconds, bodiesFile, headers: FORM, cpu: ctx.cpus.load });
  // Best of a few runs: on a shared machine a neighbour's burst only ever lowers a run.
  let best: Measured | undefined;
  for (let i = 0; i < runs; i++) {
    const cpuBefore = await server.cpuSeconds();
    const wrk = checked(what, await runWrk({ url, method: "POST", path, connections: ctx.connections, durationSeconds: ctx.durations.loadSeconds, bodiesFile, headers: FORM, cpu: ctx.cpus.load }));
    const cpuSeconds = (await server.cpuSeconds()) - cpuBefore;
    const result: Measured = { ...wrk, serverCpuShare: cpuSeconds / wrk.durationSeconds, requestsPerCpuSecond: cpuSeconds > 0 ? wrk.requests / cpuSeconds : Number.NaN };
    ctx.log(
      `${what}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.latencyMs.p50.toFixed(2)} ms, p99 ${result.latencyMs.p99.toFixed(2)} ms, ` +
        `server CPU ${(result.serverCpuShare * 100).toFixed(0)} %, ${Math.round(result.requestsPerCpuSecond)} req per CPU-second`,
    );
    if (best === undefined || result.requestsPerSecond > best.requestsPerSecond) best = result;
  }
  if (best === undefined) throw new Error(`${what}: no run`);
  return best;
}

/** A run paced to about `rate` req/s: each of a few connections waits between requests. */
export async function paced(ctx: BenchContext, what: string, url: string, path: string, bodiesFile: string, rate: number): Promise<WrkResult> {
  const delayMs = Math.max(1, (PACED_CONNECTIONS * 1000) / rate - 1000 / (2 * rate));
  const result = checked(what, await runWrk({ url, method: "POST", path, connections: PACED_CONNECTIONS, durationSeconds: ctx.durations.loadSeconds, bodiesFile, headers: FORM, delayMs, cpu: ctx.cpus.load }));
  ctx.log(`${what}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.latencyMs.p50.toFixed(2)} ms, p99 ${result.latencyMs.p99.toFixed(2)} ms`);
  return result;
}

async function serverChild(ctx: BenchContext, name: string, script: string, env: Record<string, string>): Promise<{ child: BenchChild; port: number }> {
  const port = await freeLoopbackPort();
  const child = new BenchChild({ name, script, cpu: ctx.cpus.server, env: { ...env, BENCH_PORT: String(port) } });
  await waitUntil(child, "listening", async () => {
    await fetch(`http://127.0.0.1:${port}/`).catch((err: unknown) => {
      // An HTTPS server answers plain HTTP with a reset or garbage: connected is enough.
      const code = (err as { cause?: { code?: string } }).cause?.code;
      if (code === "ECONNREFUSED") throw err;
    });
    return true;
  });
  return { child, port };
}

async function tlsFiles(ctx: BenchContext, controller: ControllerProcess): Promise<Record<string, string>> {
  const cert = join(ctx.scratchDir, "serving.crt");
  const key = join(ctx.scratchDir, "serving.key");
  await writeFile(cert, controller.tls.cert);
  await writeFile(key, controller.tls.key, { mode: 0o600 });
  return { BENCH_CERT_FILE: cert, BENCH_KEY_FILE: key };
}

export interface IssuanceResult {
  readonly p99AtHalfRate: number;
  readonly setup: IssuanceSetup;
  /** The jwks-mode maximum, for the tokenreview comparison. */
  readonly maxRate: { readonly requestsPerSecond: number; readonly requestsPerCpuSecond: number };
}

export async function benchIssuance(ctx: BenchContext, controller: ControllerProcess): Promise<IssuanceResult> {
  ctx.log(`issuance: creating ${ctx.durations.pods} pods and their projected tokens`);
  const setup = await prepareIssuance(ctx, ctx.durations.pods, "issuance");
  const tokenLength = await firstGrant(controller, setup.bodiesFile);
  // The controller has just seen 200 new pods (status writes, the entitlement feed): measure once that work is done.
  await waitSettled(controller.child);
  const issuerWrkUrl = `https://127.0.0.1:${controller.issuerPort}`;
  const full = await maxRate(ctx, "issuance (controller)", issuerWrkUrl, "/v1/token", setup.bodiesFile, controller.child);
  const half = await paced(ctx, "issuance at half rate", issuerWrkUrl, "/v1/token", setup.bodiesFile, full.requestsPerSecond / 2);

  const tls = await tlsFiles(ctx, controller);
  const noop = await serverChild(ctx, "no-op issuer stack", "bench/servers/noop-issuer.ts", { ...tls, BENCH_TOKEN_LENGTH: String(tokenLength) });
  const noopUrl = `https://127.0.0.1:${noop.port}`;
  const noopMax = await maxRate(ctx, "no-op, same HTTPS stack", noopUrl, "/v1/token", setup.bodiesFile, noop.child);
  const noopHalf = await paced(ctx, "no-op at the same paced rate", noopUrl, "/v1/token", setup.bodiesFile, full.requestsPerSecond / 2);
  await noop.child.stop();

  const signer = new BenchChild({ name: "sign-only", script: "bench/servers/sign-only.ts", cpu: ctx.cpus.server, env: { BENCH_SECONDS: String(Math.min(5, ctx.durations.loadSeconds)) } });
  await signer.exited(60_000);
  const signed = JSON.parse(/\{.*\}/.exec(signer.output())?.[0] ?? "{}") as { signaturesPerSecond?: number };
  const signaturesPerSecond = signed.signaturesPerSecond ?? Number.NaN;
  ctx.log(`signing step alone: ${Math.round(signaturesPerSecond)} signatures/s`);

  const peerBodies = join(ctx.scratchDir, "peer-bodies.txt");
  await writeFile(
    peerBodies,
    `${Array.from({ length: PEER_CLIENTS }, (_, i) =>
      new URLSearchParams({ grant_type: "client_credentials", client_id: `bench-${i}`, client_secret: `bench-secret-${i}`, scope: "read", resource: BENCH_AUDIENCE }).toString(),
    ).join("\n")}\n`,
  );
  const peer = await serverChild(ctx, "oidc-provider", "bench/servers/peer-oidc.ts", { ...tls, BENCH_PEER_CLIENTS: String(PEER_CLIENTS), BENCH_PEER_AUDIENCE: BENCH_AUDIENCE });
  const peerMax = await maxRate(ctx, "oidc-provider client_credentials", `https://127.0.0.1:${peer.port}`, "/token", peerBodies, peer.child);
  await peer.child.stop();

  const rps = "req/s";
  ctx.figures.push(
    { part: PART, measure: "Exchange throughput, max", value: full.requestsPerSecond, unit: rps, reference: { name: "no-op endpoint, same HTTPS stack", value: noopMax.requestsPerSecond }, ratio: ratio(full.requestsPerSecond, noopMax.requestsPerSecond), target: { text: "≥ 0.5×", met: ratio(full.requestsPerSecond, noopMax.requestsPerSecond) >= 0.5 }, note: `${ctx.connections} connections, ${ctx.durations.pods} distinct pods` },
    { part: PART, measure: "Exchange throughput, max", value: full.requestsPerSecond, unit: rps, reference: { name: "oidc-provider 9 client_credentials JWT", value: peerMax.requestsPerSecond }, ratio: ratio(full.requestsPerSecond, peerMax.requestsPerSecond), target: { text: "≥ 1.2×", met: ratio(full.requestsPerSecond, peerMax.requestsPerSecond) >= 1.2 } },
    { part: PART, measure: "Exchange throughput, max", value: full.requestsPerSecond, unit: rps, reference: { name: "signing step alone (ES256, one core)", value: signaturesPerSecond }, ratio: ratio(full.requestsPerSecond, signaturesPerSecond) },
    { part: PART, measure: "Exchange requests per server CPU-second", value: full.requestsPerCpuSecond, unit: "req/CPU-s", reference: { name: "no-op endpoint, same HTTPS stack", value: noopMax.requestsPerCpuSecond }, ratio: ratio(full.requestsPerCpuSecond, noopMax.requestsPerCpuSecond), target: { text: "≥ 0.5×", met: ratio(full.requestsPerCpuSecond, noopMax.requestsPerCpuSecond) >= 0.5 }, note: `server CPU used: Tessera ${pct(full.serverCpuShare)}, no-op ${pct(noopMax.serverCpuShare)}` },
    { part: PART, measure: "Exchange requests per server CPU-second", value: full.requestsPerCpuSecond, unit: "req/CPU-s", reference: { name: "oidc-provider 9 client_credentials JWT", value: peerMax.requestsPerCpuSecond }, ratio: ratio(full.requestsPerCpuSecond, peerMax.requestsPerCpuSecond), target: { text: "≥ 1.2×", met: ratio(full.requestsPerCpuSecond, peerMax.requestsPerCpuSecond) >= 1.2 }, note: `peer used ${pct(peerMax.serverCpuShare)} of its CPU` },
    { part: PART, measure: "Exchange latency p50 at max", value: full.latencyMs.p50, unit: "ms", reference: { name: "no-op at max", value: noopMax.latencyMs.p50 }, ratio: ratio(full.latencyMs.p50, noopMax.latencyMs.p50) },
    { part: PART, measure: "Exchange latency p99 at max", value: full.latencyMs.p99, unit: "ms", reference: { name: "no-op at max", value: noopMax.latencyMs.p99 }, ratio: ratio(full.latencyMs.p99, noopMax.latencyMs.p99) },
    { part: PART, measure: "Exchange latency p50 at half max rate", value: half.latencyMs.p50, unit: "ms", reference: { name: "no-op at the same rate", value: noopHalf.latencyMs.p50 }, ratio: ratio(half.latencyMs.p50, noopHalf.latencyMs.p50), note: `${Math.round(half.requestsPerSecond)} req/s over ${PACED_CONNECTIONS} paced connections` },
    { part: PART, measure: "Exchange latency p99 at half max rate", value: half.latencyMs.p99, unit: "ms", reference: { name: "no-op at the same rate", value: noopHalf.latencyMs.p99 }, ratio: ratio(half.latencyMs.p99, noopHalf.latencyMs.p99), target: { text: "< 10 ms", met: half.latencyMs.p99 < 10 } },
    { part: PART, measure: "Peer latency p99 at max", value: peerMax.latencyMs.p99, unit: "ms", reference: { name: "Tessera p99 at max", value: full.latencyMs.p99 }, ratio: ratio(peerMax.latencyMs.p99, full.latencyMs.p99) },
  );
  return { p99AtHalfRate: half.latencyMs.p99, setup, maxRate: { requestsPerSecond: full.requestsPerSecond, requestsPerCpuSecond: full.requestsPerCpuSecond } };
}

/**
 * Every pod's first exchange, one at a time, as each sidecar makes it when it starts: in tokenreview mode this is
 * the one TokenReview each projected token costs (within the issuer's TokenReview budget, which a refusal waits out).
 * Returns how many exchanges it took.
 */
async function firstExchangeOfEveryPod(controller: ControllerProcess, bodiesFile: string): Promise<number> {
  const bodies = (await readFile(bodiesFile, "utf8")).split("\n").filter((line) => line !== "");
  for (const body of bodies) {
    await waitFor(
      async () => {
        const answer = await exchange({ url: controller.issuerUrl, caPem: controller.caPem }, Object.fromEntries(new URLSearchParams(body)));
        if (answer.status !== 200) throw new Error(`exchange answered ${answer.status}: ${JSON.stringify(answer.body)}`);
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 250, description: "a pod's first token" },
    );
  }
  return bodies.length;
}

/**
 * The chart's default verification, tokenreview: the same local checks as jwks mode, then the apiserver's review of
 * each projected token once, remembered until the token's exp. Every pod exchanges once first (its review), so the
 * run measures the steady state a sidecar sees, each exchange answered from the remembered review. The apiserver
 * answering the reviews runs on the load CPU, so its work is not in the controller's CPU figure.
 */
export async function tokenReviewIssuance(ctx: BenchContext, bodiesFile: string, jwks: IssuanceResult["maxRate"]): Promise<void> {
  const controller = await startControllerProcess(ctx, { name: "tokenreview", subjectVerification: "tokenreview" });
  try {
    const pods = await firstExchangeOfEveryPod(controller, bodiesFile);
    await waitSettled(controller.child);
    const run = await maxRate(ctx, "issuance, tokenreview mode", `https://127.0.0.1:${controller.issuerPort}`, "/v1/token", bodiesFile, controller.child, 1);
    ctx.figures.push(
      { part: PART, measure: "Exchange throughput, max, tokenreview mode (the chart's default)", value: run.requestsPerSecond, unit: "req/s", reference: { name: "same, jwks mode (the rows above)", value: jwks.requestsPerSecond }, ratio: ratio(run.requestsPerSecond, jwks.requestsPerSecond), note: `each of the ${String(pods)} pods' tokens reviewed once before the run, every exchange in it answered from the remembered review; controller CPU ${pct(run.serverCpuShare)}, p99 ${run.latencyMs.p99.toFixed(1)} ms` },
      { part: PART, measure: "Exchange requests per controller CPU-second, tokenreview mode", value: run.requestsPerCpuSecond, unit: "req/CPU-s", reference: { name: "same, jwks mode", value: jwks.requestsPerCpuSecond }, ratio: ratio(run.requestsPerCpuSecond, jwks.requestsPerCpuSecond), note: "the apiserver's work for each review runs on the load CPU and is not counted" },
    );
  } finally {
    await controller.child.stop();
  }
}

/** A second controller under node --cpu-prof, loaded the same way; its profile says where the time goes. */
export async function profileIssuance(ctx: BenchContext, bodiesFile: string): Promise<void> {
  const dir = join(ctx.scratchDir, "cpu-prof");
  const controller = await startControllerProcess(ctx, { name: "profiled", subjectVerification: "jwks", nodeArgs: ["--cpu-prof", "--cpu-prof-dir", dir] });
  // Only samples taken under load count: startup (module loading, informer sync) is not issuance.
  const window = { fromMs: 0 };
  try {
    await firstGrant(controller, bodiesFile);
    await waitSettled(controller.child);
    window.fromMs = performance.now() - controller.child.startedAt;
    await maxRate(ctx, "issuance under --cpu-prof", `https://127.0.0.1:${controller.issuerPort}`, "/v1/token", bodiesFile, controller.child, 1);
  } finally {
    await controller.child.stop(20_000);
  }
  const files = (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile"));
  const file = files[0];
  if (file === undefined) throw new Error(`node --cpu-prof wrote no profile into ${dir}`);
  ctx.cpuProfile = summarizeProfile(JSON.parse(await readFile(join(dir, file), "utf8")) as CpuProfile, window);
  if (ctx.profileDir !== undefined) {
    await mkdir(ctx.profileDir, { recursive: true });
    const kept = join(ctx.profileDir, "issuer.cpuprofile");
    await copyFile(join(dir, file), kept);
    await writeFile(join(ctx.profileDir, "issuer.window.json"), `${JSON.stringify(window)}\n`);
    ctx.log(`issuer CPU profile kept in ${kept} (samples under load from ${Math.round(window.fromMs)} ms)`);
  }
}
