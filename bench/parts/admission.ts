// Part 3: the pod webhook's latency for CREATE, at the webhook (wrk, paced) and as the apiserver sees it (its histogram, pod CREATE round trips).
import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { ANNOTATION_AUDIENCES, INJECT_ENABLED, LABEL_INJECT, PATH_MUTATE_PODS, WEBHOOK_CONFIGURATION_NAME } from "../../api/constants.ts";
import { renderWebhookConfigurations } from "../../controller/src/admission/webhook-config.ts";
import { kubeClientFromConfig } from "../../controller/src/kube/kube-http.ts";
import { httpsGet } from "../../test/controlplane/https-get.ts";
import { freeLoopbackPort } from "../../test/controlplane/ports.ts";
import { createPod, createServiceAccount, freshNamespace, kubeBody, waitFor } from "../../test/integration/support/index.ts";
import { BenchChild, waitUntil } from "../child.ts";
import type { BenchContext } from "../context.ts";
import type { ControllerProcess } from "../controller-process.ts";
import { histogramBuckets, histogramQuantile, subtractBuckets } from "../histogram.ts";
import { BENCH_AUDIENCE, BENCH_SERVICE_ACCOUNT, benchPolicy, createPolicy } from "../policies.ts";
import { ratio, summarize } from "../stats.ts";
import { runWrk } from "../wrk.ts";
import { wrkErrorCount } from "../wrk-output.ts";

const PART = "3. Admission";
const SCOPE_LABEL = "bench.tessera.dev/admission";
/** 4 connections, each pausing 10 ms between reviews: a steady rate well below the maximum. */
export const ADMISSION_PACING = { connections: 4, delayMs: 10 };
const WEBHOOK_METRIC = "apiserver_admission_webhook_admission_duration_seconds";

function podSpec(name: string, namespace: string): V1Pod {
  return kubeBody<V1Pod>({
    metadata: { name, namespace, labels: { [LABEL_INJECT]: INJECT_ENABLED, tier: "gold" }, annotations: { [ANNOTATION_AUDIENCES]: BENCH_AUDIENCE } },
    spec: { serviceAccountName: BENCH_SERVICE_ACCOUNT, containers: [{ name: "app", image: "registry.k8s.io/pause:3.10" }] },
  });
}

/** An AdmissionReview for a pod CREATE, as the apiserver sends it. */
function review(namespace: string, i: number): string {
  const pod = podSpec(`review-${i}`, namespace);
  return JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: randomUUID(),
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      requestKind: { group: "", version: "v1", kind: "Pod" },
      requestResource: { group: "", version: "v1", resource: "pods" },
      name: `review-${i}`,
      namespace,
      operation: "CREATE",
      userInfo: { username: "system:serviceaccount:kube-system:replicaset-controller", groups: ["system:serviceaccounts"] },
      object: pod,
      dryRun: false,
      options: { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
    },
  });
}

/** `count` distinct reviews, one per line, as wrk's rotate.lua reads them. */
export function admissionReviews(namespace: string, count: number): string {
  return `${Array.from({ length: count }, (_, i) => review(namespace, i)).join("\n")}\n`;
}

async function timedCreates(ctx: BenchContext, namespace: string, prefix: string, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await createPod(namespace, { name: `${prefix}-${i}`, serviceAccountName: BENCH_SERVICE_ACCOUNT, labels: { [LABEL_INJECT]: INJECT_ENABLED, tier: "gold" }, annotations: { [ANNOTATION_AUDIENCES]: BENCH_AUDIENCE } }, ctx.clients);
    samples.push(performance.now() - started);
  }
  return samples;
}

async function apiserverMetrics(ctx: BenchContext): Promise<string> {
  const cp = ctx.controlPlane;
  const user = ctx.clients.kubeConfig.getCurrentUser();
  const decode = (data: string | undefined): string | undefined => (data === undefined ? undefined : Buffer.from(data, "base64").toString("utf8"));
  const certPem = decode(user?.certData);
  const keyPem = decode(user?.keyData);
  const res = await httpsGet(`${cp.apiserverUrl}/metrics`, { caPem: cp.caPem, ...(certPem === undefined ? {} : { certPem }), ...(keyPem === undefined ? {} : { keyPem }) }, 20_000);
  if (res.status !== 200) throw new Error(`apiserver /metrics answered ${res.status}`);
  return res.body;
}

export async function benchAdmission(ctx: BenchContext, controller: ControllerProcess): Promise<void> {
  const namespace = await freshNamespace("bench-admission", { team: "payments", [SCOPE_LABEL]: "on" }, ctx.clients);
  const plain = await freshNamespace("bench-no-webhook", { team: "payments" }, ctx.clients);
  for (const ns of [namespace, plain]) {
    await createServiceAccount(ns, BENCH_SERVICE_ACCOUNT, ctx.clients);
    await createPolicy(ctx.clients, ns, benchPolicy(ns, "payments"));
  }

  // At the webhook: AdmissionReviews straight to the controller's admission port, at a paced rate; the no-op on the same HTTPS stack is the floor.
  const bodies = join(ctx.scratchDir, "admission-bodies.txt");
  await writeFile(bodies, admissionReviews(namespace, 50));
  const headers = { "content-type": "application/json" };
  const pacedRun = { method: "POST" as const, path: PATH_MUTATE_PODS, connections: ADMISSION_PACING.connections, delayMs: ADMISSION_PACING.delayMs, durationSeconds: ctx.durations.loadSeconds, bodiesFile: bodies, headers, cpu: ctx.cpus.load };
  await runWrk({ ...pacedRun, url: `https://127.0.0.1:${controller.admissionPort}`, durationSeconds: ctx.durations.warmupSeconds });
  const atWebhook = await runWrk({ ...pacedRun, url: `https://127.0.0.1:${controller.admissionPort}` });
  if (wrkErrorCount(atWebhook) > 0) throw new Error(`admission: wrk counted errors ${JSON.stringify(atWebhook.errors)}`);
  const cert = join(ctx.scratchDir, "serving.crt");
  const key = join(ctx.scratchDir, "serving.key");
  await writeFile(cert, controller.tls.cert);
  await writeFile(key, controller.tls.key, { mode: 0o600 });
  const noopPort = await freeLoopbackPort();
  const noop = new BenchChild({ name: "no-op HTTPS stack", script: "bench/servers/noop-issuer.ts", cpu: ctx.cpus.server, env: { BENCH_PORT: String(noopPort), BENCH_CERT_FILE: cert, BENCH_KEY_FILE: key } });
  await waitUntil(noop, "listening", async () => {
    await fetch(`http://127.0.0.1:${noopPort}/`).catch((err: unknown) => {
      if ((err as { cause?: { code?: string } }).cause?.code === "ECONNREFUSED") throw err;
    });
    return true;
  });
  // The no-op issuer answers its token path; the same bodies and pacing, content type aside.
  const floor = await runWrk({ ...pacedRun, path: "/v1/token", headers: { "content-type": "application/x-www-form-urlencoded" }, url: `https://127.0.0.1:${noopPort}` });
  await noop.stop();
  ctx.log(`admission at the webhook: p50 ${atWebhook.latencyMs.p50.toFixed(2)} ms, p99 ${atWebhook.latencyMs.p99.toFixed(2)} ms at ${Math.round(atWebhook.requestsPerSecond)} req/s`);

  // As the apiserver sees it: the webhook registered for the scoped namespace, pod CREATEs timed with and without it.
  const kube = kubeClientFromConfig(ctx.clients.kubeConfig);
  const { mutating } = renderWebhookConfigurations({ target: { kind: "url", baseUrl: `https://localhost:${controller.admissionPort}` }, tesseraNamespace: controller.namespace, caBundlePem: controller.caPem });
  for (const webhook of mutating.webhooks) {
    const selector = (webhook.namespaceSelector ??= {});
    selector.matchLabels = { ...selector.matchLabels, [SCOPE_LABEL]: "on" };
  }
  const path = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";
  const created = await kube.request("POST", path, { body: mutating });
  if (created.status !== 201) throw new Error(`creating the mutating webhook configuration answered ${created.status}`);
  try {
    // The apiserver picks new configurations up after a moment: wait for an injected pod.
    let probe = 0;
    await waitFor(
      async () => {
        const pod = await ctx.clients.core.createNamespacedPod({ namespace, body: podSpec(`probe-${probe++}`, namespace) });
        return (pod.spec?.initContainers?.length ?? 0) + (pod.spec?.containers.length ?? 0) > 1;
      },
      { timeoutMs: 30_000, intervalMs: 250, description: "the webhook to inject a pod" },
    );
    const before = histogramBuckets(await apiserverMetrics(ctx), WEBHOOK_METRIC, { operation: "CREATE", type: "admit" });
    const withWebhook = summarize(await timedCreates(ctx, namespace, "admitted", ctx.durations.admissionCreates));
    const after = histogramBuckets(await apiserverMetrics(ctx), WEBHOOK_METRIC, { operation: "CREATE", type: "admit" });
    const without = summarize(await timedCreates(ctx, plain, "plain", ctx.durations.admissionCreates));
    const seen = subtractBuckets(after, before);
    const p50 = histogramQuantile(0.5, seen) * 1000;
    const p99 = histogramQuantile(0.99, seen) * 1000;
    ctx.log(`pod CREATE through the apiserver: p99 ${withWebhook.p99.toFixed(1)} ms with the webhook, ${without.p99.toFixed(1)} ms without; apiserver histogram p99 ≈ ${p99.toFixed(1)} ms`);
    const rate = `${Math.round(atWebhook.requestsPerSecond)} req/s over ${ADMISSION_PACING.connections} paced connections`;
    ctx.figures.push(
      { part: PART, measure: "Pod CREATE review at the webhook, p50", value: atWebhook.latencyMs.p50, unit: "ms", reference: { name: "no-op, same HTTPS stack and pacing", value: floor.latencyMs.p50 }, ratio: ratio(atWebhook.latencyMs.p50, floor.latencyMs.p50), note: rate },
      { part: PART, measure: "Pod CREATE review at the webhook, p99", value: atWebhook.latencyMs.p99, unit: "ms", reference: { name: "no-op, same HTTPS stack and pacing", value: floor.latencyMs.p99 }, ratio: ratio(atWebhook.latencyMs.p99, floor.latencyMs.p99), target: { text: "< 10 ms", met: atWebhook.latencyMs.p99 < 10 } },
      { part: PART, measure: "Webhook call as the apiserver times it, p50", value: p50, unit: "ms", reference: { name: "pod CREATE round trip without a webhook, p50", value: without.p50 }, ratio: ratio(p50, without.p50), note: `${WEBHOOK_METRIC}, interpolated in its buckets (5, 25, 100 ms ...)` },
      { part: PART, measure: "Webhook call as the apiserver times it, p99", value: p99, unit: "ms", reference: { name: "pod CREATE round trip without a webhook, p99", value: without.p99 }, ratio: ratio(p99, without.p99) },
      { part: PART, measure: "Pod CREATE round trip with the webhook, p50", value: withWebhook.p50, unit: "ms", reference: { name: "same, namespace not selected", value: without.p50 }, ratio: ratio(withWebhook.p50, without.p50), note: `${withWebhook.count} sequential creates each` },
      { part: PART, measure: "Pod CREATE round trip with the webhook, p99", value: withWebhook.p99, unit: "ms", reference: { name: "same, namespace not selected", value: without.p99 }, ratio: ratio(withWebhook.p99, without.p99) },
    );
  } finally {
    await kube.request("DELETE", `${path}/${WEBHOOK_CONFIGURATION_NAME}`);
  }
}
