// Part 4: a TokenPolicy edit until a running sidecar serves the changed claim, vs the apiserver delivering the same edit to a watch.
import { Watch } from "@kubernetes/client-node";
import { decodeJwt } from "jose";
import { API_GROUP, API_VERSION, RESOURCE_TOKEN_POLICIES, SIDECAR_GUARD_HEADER } from "../../api/constants.ts";
import { freeLoopbackPort } from "../../test/controlplane/ports.ts";
import { createServiceAccount, freshNamespace } from "../../test/integration/support/index.ts";
import { waitUntil } from "../child.ts";
import { sleep } from "../concurrency.ts";
import type { BenchContext } from "../context.ts";
import type { ControllerProcess } from "../controller-process.ts";
import { BENCH_SERVICE_ACCOUNT, benchPolicy, createPolicy } from "../policies.ts";
import { ratio, summarize } from "../stats.ts";
import { sidecarFiles, spawnSidecar } from "./sidecar.ts";

const PART = "4. Propagation";
const POLL_MS = 5;
const POLICY = "propagation";

async function servedTier(port: number): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/token?name=payments`, { headers: { [SIDECAR_GUARD_HEADER]: "true" } });
  const body = (await res.json()) as { access_token?: string };
  return body.access_token === undefined ? undefined : decodeJwt(body.access_token)["tier"];
}

export async function benchPropagation(ctx: BenchContext, controller: ControllerProcess): Promise<void> {
  const namespace = await freshNamespace("bench-propagation", { team: "payments" }, ctx.clients);
  await createServiceAccount(namespace, BENCH_SERVICE_ACCOUNT, ctx.clients);
  await createPolicy(ctx.clients, namespace, benchPolicy(namespace, POLICY, '"v0"'));
  const files = await sidecarFiles(ctx, controller, namespace, "propagation-0");
  const port = await freeLoopbackPort();
  const sidecar = spawnSidecar(ctx, controller, files, port, { name: "sidecar-propagation" });

  // The ceiling: when the apiserver's watch hands the bench the edited policy.
  const watched = new Map<string, number>();
  const watch = await new Watch(ctx.clients.kubeConfig).watch(
    `/apis/${API_GROUP}/${API_VERSION}/namespaces/${namespace}/${RESOURCE_TOKEN_POLICIES}`,
    {},
    (_type: string, object: { spec?: { claims?: { expression?: string }[] } }) => {
      const expression = object.spec?.claims?.[0]?.expression;
      if (expression !== undefined && !watched.has(expression)) watched.set(expression, performance.now());
    },
    () => undefined,
  );
  try {
    await waitUntil(sidecar, "serving v0", async () => (await servedTier(port)) === "v0", 30_000);
    const served: number[] = [];
    const delivered: number[] = [];
    for (let i = 1; i <= ctx.durations.edits; i++) {
      const value = `v${i}`;
      const started = performance.now();
      await ctx.clients.custom.patchNamespacedCustomObject({
        group: API_GROUP,
        version: API_VERSION,
        namespace,
        plural: RESOURCE_TOKEN_POLICIES,
        name: POLICY,
        body: [{ op: "replace", path: "/spec/claims/0/expression", value: JSON.stringify(value) }],
      });
      const at = await waitUntil(sidecar, `serving ${value}`, async () => (await servedTier(port)) === value, 30_000, POLL_MS);
      served.push(at - started);
      const seen = watched.get(JSON.stringify(value));
      if (seen !== undefined) delivered.push(seen - started);
      // Edits spaced like people's, not a burst the controller could coalesce.
      await sleep(100);
    }
    const s = summarize(served);
    const w = summarize(delivered);
    ctx.log(`propagation over ${s.count} edits: p50 ${s.p50.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms (watch delivery p50 ${w.p50.toFixed(0)} ms)`);
    const note = `${s.count} edits; sidecar polled every ${POLL_MS} ms; max ${Math.round(s.max)} ms`;
    ctx.figures.push(
      { part: PART, measure: "Policy edit to changed claim served, p50", value: s.p50, unit: "ms", reference: { name: "apiserver watch delivers the edit, p50", value: w.p50 }, ratio: ratio(s.p50, w.p50), note },
      { part: PART, measure: "Policy edit to changed claim served, p99", value: s.p99, unit: "ms", reference: { name: "apiserver watch delivers the edit, p99", value: w.p99 }, ratio: ratio(s.p99, w.p99), target: { text: "< 2 s", met: s.p99 < 2000 } },
    );
  } finally {
    watch.abort();
    await sidecar.stop();
  }
}
