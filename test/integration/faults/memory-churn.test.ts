// Memory under exchange churn: pods created, exchanging and deleted for a while, against the real controller
// process; its resident set must stay flat (within 10 %) once warm.
//
// Issue 19 asks for 30 minutes. That is too long for every CI run, so the duration is a setting:
// TESSERA_FAULTS_CHURN_SECONDS (default 120, what `npm test` runs; 1800 for the full run recorded in
// docs/reliability.md).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PATH_METRICS } from "../../../api/constants.ts";
import type { SpawnedController } from "../support/controller-launcher.ts";
import { oauthError, type IssuerHttp } from "../support/issuer-http.ts";
import { deletePod } from "../support/index.ts";
import { FAULT_AUDIENCE, residentBytes, startFaultStack, type FaultStack } from "./fault-stack.ts";

const CHURN_SECONDS = Number(process.env["TESSERA_FAULTS_CHURN_SECONDS"] ?? "120");
/** Pods created, exchanged for and deleted per round. */
const PODS_PER_ROUND = 4;
/** Exchanges each pod makes in its short life. */
const EXCHANGES_PER_POD = 5;
const SAMPLE_MS = 5_000;
/** The first quarter is warm-up (JIT, caches filling to their working size, V8 growing its heap); not judged. */
const WARM_UP_FRACTION = 0.25;
/** Allowed growth from the first judged window to the last. */
const MAX_GROWTH = 0.1;

let stack: FaultStack;
let controller: SpawnedController;
let http: IssuerHttp;

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

/** The controller's V8 heap in use, from its own metrics: tells live objects apart from what the allocator keeps. */
async function heapUsedBytes(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? Number.NaN);
}

beforeAll(async () => {
  stack = await startFaultStack({ privateControlPlane: false });
  controller = await stack.replica("churn-0");
  http = await stack.http();
}, 300_000);

afterAll(async () => {
  await stack.stop();
});

describe("memory under exchange churn", () => {
  it(`keeps the controller's resident set within ${String(MAX_GROWTH * 100)} % over ${String(CHURN_SECONDS)} s of pods created, exchanging and deleted`, async () => {
    const pid = controller.child.pid;
    if (pid === undefined) throw new Error("the controller has no pid");
    expect(CHURN_SECONDS).toBeGreaterThanOrEqual(60);
    const samples: { atMs: number; bytes: number; heap: number }[] = [];
    const metricsUrl = controller.readyzUrl.replace(/\/readyz$/, PATH_METRICS);
    const started = performance.now();
    const sampler = setInterval(() => {
      const atMs = performance.now() - started;
      void Promise.all([residentBytes(pid), heapUsedBytes(metricsUrl)]).then(([bytes, heap]) => samples.push({ atMs, bytes, heap }));
    }, SAMPLE_MS);
    let round = 0;
    let exchanges = 0;
    const failures: Record<string, number> = {};
    try {
      while (performance.now() - started < CHURN_SECONDS * 1000) {
        const pods = await Promise.all(Array.from({ length: PODS_PER_ROUND }, (_, i) => stack.addPod(`churn-${String(round)}-${String(i)}`)));
        await Promise.all(
          pods.map(async (pod) => {
            for (let i = 0; i < EXCHANGES_PER_POD; i++) {
              // A pod exchanges as soon as it exists; until the controller's cache has it, the issuer says invalid_grant.
              const reply = await http.exchange(controller.issuerUrl, pod.token, FAULT_AUDIENCE);
              exchanges += 1;
              if (reply.status !== 200) {
                const key = `${String(reply.status)} ${oauthError(reply) ?? reply.error ?? ""}`;
                failures[key] = (failures[key] ?? 0) + 1;
              }
            }
          }),
        );
        await Promise.all(pods.map((pod) => deletePod(stack.workloadNamespace, pod.name, stack.clients)));
        round += 1;
      }
    } finally {
      clearInterval(sampler);
    }
    samples.sort((a, b) => a.atMs - b.atMs);
    const judged = samples.filter((s) => s.atMs >= CHURN_SECONDS * 1000 * WARM_UP_FRACTION);
    const window = Math.max(3, Math.floor(judged.length / 5));
    const early = median(judged.slice(0, window).map((s) => s.bytes));
    const late = median(judged.slice(-window).map((s) => s.bytes));
    const peak = Math.max(...samples.map((s) => s.bytes));
    const heapEarly = median(judged.slice(0, window).map((s) => s.heap));
    const heapLate = median(judged.slice(-window).map((s) => s.heap));
    const growth = late / early - 1;
    const ok = exchanges - Object.values(failures).reduce((a, b) => a + b, 0);
    console.log(
      `[faults] memory churn ${String(CHURN_SECONDS)} s: ${String(round * PODS_PER_ROUND)} pods created and deleted, ${String(ok)}/${String(exchanges)} exchanges ok ` +
        `(others: ${JSON.stringify(failures)}); controller RSS ${mib(early)} MiB after warm-up -> ${mib(late)} MiB at the end ` +
        `(${(growth * 100).toFixed(1)} %, peak ${mib(peak)} MiB, ${String(samples.length)} samples); V8 heap in use ${mib(heapEarly)} -> ${mib(heapLate)} MiB`,
    );
    expect(judged.length).toBeGreaterThanOrEqual(2 * window);
    expect(growth).toBeLessThanOrEqual(MAX_GROWTH);
    // Churn is real issuance: almost every exchange is a token (the first of a brand-new pod may beat the cache).
    expect(ok).toBeGreaterThan(exchanges * 0.9);
    expect(controller.child.exitCode).toBeNull();
  }, (CHURN_SECONDS + 300) * 1000);
});
