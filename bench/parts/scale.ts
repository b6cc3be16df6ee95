// Part 5: the controller with 10,000 pods and 1,000 policies in the apiserver: RSS, start to synced, issuance latency vs 10 pods.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { API_GROUP, API_VERSION, DEFAULT_TESSERA_AUDIENCE, RESOURCE_CLUSTER_TOKEN_POLICIES } from "../../api/constants.ts";
import { createPod, createServiceAccount, freshNamespace, mintProjectedToken } from "../../test/integration/support/index.ts";
import { waitSettled } from "../child.ts";
import { mapLimit } from "../concurrency.ts";
import type { BenchContext } from "../context.ts";
import { startControllerProcess, type ControllerProcess } from "../controller-process.ts";
import { BENCH_SERVICE_ACCOUNT, benchPolicy, createPolicy, exchangeForm } from "../policies.ts";
import { SCALE_SHAPE, spreadSample, tokenPoliciesPerNamespace } from "../scale-plan.ts";
import { ratio } from "../stats.ts";
import { firstGrant, paced, prepareIssuance } from "./issuance.ts";

const PART = "5. Scale";
const MB = 1_000_000;
/** Modest load, the same for both sizes: latency is compared, not throughput. */
const RATE = 200;
/** Pods of the large cluster whose tokens the paced run rotates through, spread over every namespace. */
const SAMPLE = 200;
const SMALL_PODS = 10;
/** Requests in flight while creating objects: enough to keep the apiserver busy, few enough not to queue for long. */
const CREATE_PARALLELISM = 48;
/** Namespace label the ClusterTokenPolicies select on, so each selects a tenth of the namespaces. */
const GROUP_LABEL = "bench.tessera.dev/group";
const GROUPS = 10;

interface SizeRun {
  readonly readyAfterMs: number;
  /** After /readyz and the start-up work (status writes) has settled. */
  readonly rssBytes: number;
  /** VmHWM at the end of the paced run: the most the process ever held. */
  readonly peakRssBytes: number;
  readonly p50: number;
  readonly p99: number;
  readonly requestsPerSecond: number;
}

/** A fresh controller over the objects now stored: time to synced, RSS once settled, latency at RATE. */
async function measureSize(ctx: BenchContext, name: string, bodiesFile: string): Promise<SizeRun> {
  const controller: ControllerProcess = await startControllerProcess(ctx, { name, subjectVerification: "jwks" });
  try {
    ctx.log(`${name}: ready (caches synced) ${Math.round(controller.readyAfterMs)} ms after spawn, RSS ${Math.round((await controller.child.rssBytes()) / MB)} MB`);
    await firstGrant(controller, bodiesFile);
    await waitSettled(controller.child);
    const rssBytes = await controller.child.rssBytes();
    // A paced warm-up first, as part 1 warms up: JIT, and every sampled token seen once, in both cases alike.
    const warm = { ...ctx, durations: { ...ctx.durations, loadSeconds: Math.max(5, ctx.durations.warmupSeconds) } };
    await paced(warm, `${name}: warm-up at ${RATE} req/s`, `https://127.0.0.1:${controller.issuerPort}`, "/v1/token", bodiesFile, RATE);
    const seconds = Math.max(10, ctx.durations.loadSeconds);
    const run = await paced({ ...ctx, durations: { ...ctx.durations, loadSeconds: seconds } }, `${name}: issuance at ${RATE} req/s`, `https://127.0.0.1:${controller.issuerPort}`, "/v1/token", bodiesFile, RATE);
    const peakRssBytes = await controller.child.peakRssBytes();
    ctx.log(`${name}: RSS settled ${Math.round(rssBytes / MB)} MB, peak ${Math.round(peakRssBytes / MB)} MB`);
    return { readyAfterMs: controller.readyAfterMs, rssBytes, peakRssBytes, p50: run.latencyMs.p50, p99: run.latencyMs.p99, requestsPerSecond: run.requestsPerSecond };
  } finally {
    await controller.child.stop();
  }
}

function clusterPolicy(index: number): Record<string, unknown> {
  return {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: "ClusterTokenPolicy",
    metadata: { name: `bench-scale-${index}` },
    spec: {
      owner: { team: "platform" },
      subjects: { namespaceSelector: { matchLabels: { [GROUP_LABEL]: `g${index % GROUPS}` } }, serviceAccounts: [BENCH_SERVICE_ACCOUNT] },
      audiences: [`https://cluster-${index}.internal.example`],
      scopes: { allowed: ["read"], default: ["read"] },
      ttlSeconds: 600,
    },
  };
}

/** Namespace `i`'s policy `k`: the first grants the bench audience, the others other audiences the lookup must pass over. */
function namespacePolicy(namespace: string, k: number): Record<string, unknown> {
  if (k === 0) return benchPolicy(namespace, "payments");
  const policy = benchPolicy(namespace, `svc-${k}`);
  return { ...policy, spec: { ...(policy["spec"] as Record<string, unknown>), audiences: [`https://svc-${k}.internal.example`] } };
}

/** 100 namespaces × 100 pods, 950 TokenPolicies and 50 ClusterTokenPolicies; returns the sampled pods' exchange bodies. */
async function buildCluster(ctx: BenchContext): Promise<{ bodiesFile: string; seconds: number }> {
  const started = performance.now();
  const shape = SCALE_SHAPE;
  const perNamespace = tokenPoliciesPerNamespace(shape);
  const namespaces = await mapLimit(perNamespace, 16, async (count, i) => {
    const namespace = await freshNamespace(`scale-${i}`, { team: "payments", [GROUP_LABEL]: `g${i % GROUPS}` }, ctx.clients);
    await createServiceAccount(namespace, BENCH_SERVICE_ACCOUNT, ctx.clients);
    for (let k = 0; k < count; k++) await createPolicy(ctx.clients, namespace, namespacePolicy(namespace, k));
    return namespace;
  });
  await mapLimit(
    Array.from({ length: shape.clusterPolicies }, (_, j) => j),
    16,
    (j) => ctx.clients.custom.createClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: RESOURCE_CLUSTER_TOKEN_POLICIES, body: clusterPolicy(j) }),
  );
  ctx.log(`scale: ${namespaces.length} namespaces, ${shape.policies} policies in ${Math.round((performance.now() - started) / 1000)} s`);
  const total = shape.namespaces * shape.podsPerNamespace;
  const sampled = new Set(spreadSample(total, SAMPLE));
  const kept = new Map<number, V1Pod>();
  await mapLimit(
    Array.from({ length: total }, (_, n) => n),
    CREATE_PARALLELISM,
    async (n) => {
      const namespace = namespaces[Math.floor(n / shape.podsPerNamespace)] ?? "";
      const pod = await createPod(namespace, { name: `app-${n % shape.podsPerNamespace}`, serviceAccountName: BENCH_SERVICE_ACCOUNT, labels: { tier: n % 2 === 0 ? "gold" : "silver" } }, ctx.clients);
      if (sampled.has(n)) kept.set(n, pod);
      if ((n + 1) % 2000 === 0) ctx.log(`scale: ${n + 1} pods created`);
    },
  );
  const tokens = await mapLimit([...kept.values()], 8, (pod) =>
    mintProjectedToken({ namespace: pod.metadata?.namespace ?? "", serviceAccount: BENCH_SERVICE_ACCOUNT, pod, audience: DEFAULT_TESSERA_AUDIENCE, expirationSeconds: 3600 }, ctx.clients),
  );
  const bodiesFile = join(ctx.scratchDir, "scale-bodies.txt");
  await writeFile(bodiesFile, `${tokens.map(exchangeForm).join("\n")}\n`, { mode: 0o600 });
  const seconds = (performance.now() - started) / 1000;
  ctx.log(`scale: ${total} pods, ${tokens.length} sampled tokens, everything stored in ${Math.round(seconds)} s`);
  return { bodiesFile, seconds };
}

export async function benchScale(ctx: BenchContext, running: ControllerProcess): Promise<void> {
  // The earlier parts' controller would share the server CPU and cache all 10,000 pods too: it has done its work.
  await running.child.stop();
  // RSS is judged on what the image runs (tsc output, plain node), as every part runs the controller.
  ctx.log(`scale: the ${SMALL_PODS}-pod case first, on a fresh controller (tsc output)`);
  const small = await measureSize(ctx, "scale-small", (await prepareIssuance(ctx, SMALL_PODS, "scale-small")).bodiesFile);
  const built = await buildCluster(ctx);
  const large = await measureSize(ctx, "scale-large", built.bodiesFile);
  pushFigures(ctx, small, large, built.seconds);
}

function pushFigures(ctx: BenchContext, small: SizeRun, large: SizeRun, buildSeconds: number): void {

  const size = `${(SCALE_SHAPE.namespaces * SCALE_SHAPE.podsPerNamespace).toLocaleString("en-US")} pods, ${SCALE_SHAPE.policies.toLocaleString("en-US")} policies`;
  const smallRef = (value: number): { name: string; value: number } => ({ name: `same controller, ${SMALL_PODS} pods`, value });
  const rssRatio = ratio(large.rssBytes, small.rssBytes);
  const p99Ratio = ratio(large.p99, small.p99);
  ctx.figures.push(
    { part: PART, measure: `Controller RSS after cache sync, ${size}`, value: large.rssBytes / MB, unit: "MB", reference: smallRef(small.rssBytes / MB), ratio: rssRatio, target: { text: "< 250 MB", met: large.rssBytes < 250 * MB }, note: "tsc output as the image runs it; settled after /readyz and the first grant" },
    { part: PART, measure: `Controller peak RSS (VmHWM), ${size}`, value: large.peakRssBytes / MB, unit: "MB", reference: smallRef(small.peakRssBytes / MB), ratio: ratio(large.peakRssBytes, small.peakRssBytes), target: { text: "< 250 MB", met: large.peakRssBytes < 250 * MB }, note: "from start through the paced run" },
    { part: PART, measure: `Start to caches synced (/readyz), ${size}`, value: large.readyAfterMs, unit: "ms", reference: smallRef(small.readyAfterMs), ratio: ratio(large.readyAfterMs, small.readyAfterMs), note: `objects stored in ${Math.round(buildSeconds)} s (${CREATE_PARALLELISM} requests in flight)` },
    { part: PART, measure: `Issuance latency p50, ${size}`, value: large.p50, unit: "ms", reference: smallRef(small.p50), ratio: ratio(large.p50, small.p50), note: `${SAMPLE} sampled pods across every namespace, ${Math.round(large.requestsPerSecond)} req/s paced` },
    { part: PART, measure: `Issuance latency p99, ${size}`, value: large.p99, unit: "ms", reference: smallRef(small.p99), ratio: p99Ratio, target: { text: "≤ 2× the 10-pod case", met: p99Ratio <= 2 }, note: `${SMALL_PODS}-pod case at ${Math.round(small.requestsPerSecond)} req/s` },
  );
}
