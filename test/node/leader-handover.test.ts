// The leader controller crashes on the real node (its container SIGKILLed: no Lease release, no goodbye to open
// connections): the other replica takes the Lease within the lease, and a running pod's token exchanges, its
// sidecar's and a steady stream through the issuer Service, never fail through the crash, the handover and the
// killed container's restart.
import { AppsV1Api, CoordinationV1Api, type V1Deployment, type V1Pod } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ANNOTATION_AUDIENCES,
  API_GROUP,
  API_VERSION,
  DEFAULT_TESSERA_AUDIENCE,
  LEADER_LEASE_NAME,
  RESOURCE_TOKEN_POLICIES,
  SIDECAR_CONTAINER_NAME,
} from "../../api/constants.ts";
import { backoffDelayMs } from "../../sidecar/src/backoff.ts";
import { CONNECTION_RETRY, CONNECTION_RETRY_WINDOW_MS } from "../../sidecar/src/issuer-client.ts";
import { kubeBody } from "../controlplane/plain.ts";
import { adminKubeConfig, kubeClients, type KubeClients } from "../integration/support/control-plane.ts";
import { issuerHttp, type IssuerReply } from "../integration/support/issuer-http.ts";
import { mintProjectedToken } from "../integration/support/tokens.ts";
import { waitFor } from "../integration/support/wait-for.ts";
import { crashContainer, runtimeContainerId } from "./crash.ts";
import { nodeTier, requireNode } from "./support.ts";
import { TESSERA_NAMESPACE } from "./tessera-install.ts";
import { isReady, optedInNamespace, policySpec, WORKLOAD_POLICY, WORKLOAD_SERVICE_ACCOUNT } from "./workloads.ts";

const AUDIENCE = "https://stock.example";
const APP_PORT = 8080;
/**
 * More distinct scopes than the sidecar keeps run-time tokens (16, least recently used first out): cycling through
 * them, every request the application makes misses the sidecar's cache and is a real exchange with the issuer.
 */
const SCOPES = Array.from({ length: 24 }, (_, i) => `stock.s${String(i)}`);
/** The chart's retry period (charts/tessera/values.yaml): how often a replica tries to take an expired Lease. */
const RETRY_PERIOD_S = 2;
/** Room for the 2-core machine this runs on: a renewal round trip, the apiserver's write, the test's own poll. */
const ALLOWANCE_S = 5;
/** Pause between the test's own exchanges: with the application's, under the per-pod limit of one replica (5/s). */
const STREAM_PAUSE_MS = 400;

/**
 * Asks the sidecar for a token with the next scope about three times a second, counting what it got and what
 * failed; keeps the last token and a copy of the sidecar's /metrics for the test to read over the bridge.
 */
const EXCHANGING_APP = [
  "mkdir -p /tmp/www && echo 0 > /tmp/www/ok && echo 0 > /tmp/www/failed",
  "(i=0; ok=0; failed=0; while true; do",
  `  if wget -q -O /tmp/www/next --header 'Tessera-Token-Request: true' "$TESSERA_ENDPOINT/v1/token?audience=${AUDIENCE}&scope=stock.s$((i % ${String(SCOPES.length)}))"; then`,
  "    ok=$((ok + 1)); mv /tmp/www/next /tmp/www/latest.json; echo $ok > /tmp/www/ok",
  "  else",
  "    failed=$((failed + 1)); echo $failed > /tmp/www/failed",
  "  fi",
  '  wget -q -O /tmp/www/metrics.next "$TESSERA_ENDPOINT/metrics" && mv /tmp/www/metrics.next /tmp/www/metrics',
  "  i=$((i + 1)); /bin/busybox usleep 300000",
  "done) &",
  `exec /bin/busybox httpd -f -p ${String(APP_PORT)} -h /tmp/www`,
].join("\n");

/** What the application has seen so far, read from its own web server. */
interface AppCounts {
  readonly ok: number;
  readonly failed: number;
  /** The sidecar's tessera_sidecar_refresh_failures_total, summed over codes and tokens. */
  readonly sidecarFailures: number;
  readonly sidecarRefreshes: number;
  readonly watchFailures: number;
}

interface StreamedExchange {
  readonly atMs: number;
  readonly reply: IssuerReply;
  /** Connections refused or broken before an answer (the dead replica), asked again. */
  readonly lostConnections: number;
}

/**
 * One exchange the way the sidecar makes it (sidecar/src/issuer-client.ts): a connection refused or broken before
 * an answer, a replica that just died, is asked again after CONNECTION_RETRY's pauses within its window.
 */
async function exchangeAsTheSidecar(exchange: () => Promise<IssuerReply>): Promise<StreamedExchange> {
  const started = Date.now();
  for (let attempt = 1; ; attempt += 1) {
    const reply = await exchange();
    // issuerHttp answers status 0 for a refused or broken connection and for its own timeout; only the first is retried.
    const lost = reply.status === 0 && reply.error?.startsWith("no answer within") !== true;
    if (!lost) return { atMs: Date.now(), reply, lostConnections: attempt - 1 };
    const delay = backoffDelayMs(CONNECTION_RETRY, attempt, Math.random);
    if (Date.now() - started + delay >= CONNECTION_RETRY_WINDOW_MS) return { atMs: Date.now(), reply, lostConnections: attempt };
    await sleep(delay);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

// Skipped only without root, where no node can run (the global setup says why); in CI a missing node fails instead.
describe.skipIf(!nodeTier().available)("the leader controller crashing on the node tier", () => {
  let clients: KubeClients;

  beforeAll(() => {
    clients = kubeClients();
  });

  it("hands the Lease to the other replica within the lease, and a running pod's exchanges never fail", async () => {
    const namespace = await optedInNamespace(clients, "node-handover", AUDIENCE);
    const policy = (await clients.custom.getNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace,
      plural: RESOURCE_TOKEN_POLICIES,
      name: WORKLOAD_POLICY,
    })) as { spec: unknown };
    await clients.custom.replaceNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace,
      plural: RESOURCE_TOKEN_POLICIES,
      name: WORKLOAD_POLICY,
      body: { ...policy, spec: { ...policySpec(AUDIENCE), scopes: { allowed: SCOPES } } },
    });
    const labels = { app: "stock" };
    const apps = adminKubeConfig().makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace,
      body: kubeBody<V1Deployment>({
        metadata: { name: "stock", namespace },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels, annotations: { [ANNOTATION_AUDIENCES]: AUDIENCE } },
            spec: {
              serviceAccountName: WORKLOAD_SERVICE_ACCOUNT,
              containers: [
                {
                  name: "app",
                  image: requireNode().images.busybox,
                  imagePullPolicy: "Never",
                  command: ["/bin/busybox", "sh", "-c", EXCHANGING_APP],
                  readinessProbe: { exec: { command: ["/bin/busybox", "test", "-s", "/tmp/www/latest.json"] }, periodSeconds: 1 },
                },
              ],
              terminationGracePeriodSeconds: 2,
            },
          },
        },
      }),
    });
    const pod: V1Pod = await waitFor(
      async () => (await clients.core.listNamespacedPod({ namespace, labelSelector: "app=stock" })).items.find(isReady),
      { timeoutMs: 180_000, intervalMs: 1_000, description: "the application's pod to become Ready" },
    );
    const appGet = async (path: string): Promise<string> => {
      const res = await fetch(`http://${pod.status?.podIP ?? ""}:${String(APP_PORT)}/${path}`, { signal: AbortSignal.timeout(5_000) });
      if (res.status !== 200) throw new Error(`the application answered ${String(res.status)} for /${path}`);
      return res.text();
    };
    const appCounts = async (): Promise<AppCounts> => {
      const metrics = await appGet("metrics");
      return {
        ok: Number((await appGet("ok")).trim()),
        failed: Number((await appGet("failed")).trim()),
        sidecarFailures: metricSum(metrics, "tessera_sidecar_refresh_failures_total"),
        sidecarRefreshes: metricSum(metrics, "tessera_sidecar_refreshes_total"),
        watchFailures: metricSum(metrics, "tessera_sidecar_watch_failures_total"),
      };
    };

    // The test's own stream: the subject token the kubelet projects for this pod, through the issuer Service.
    const subjectToken = await mintProjectedToken({ namespace, serviceAccount: WORKLOAD_SERVICE_ACCOUNT, pod, audience: DEFAULT_TESSERA_AUDIENCE });
    const secret = await clients.core.readNamespacedSecret({ name: "tessera-webhook-tls", namespace: TESSERA_NAMESPACE });
    const caPem = Buffer.from(secret.data?.["ca.crt"] ?? "", "base64").toString("utf8");
    const service = await clients.core.readNamespacedService({ name: "tessera", namespace: TESSERA_NAMESPACE });
    const issuerUrl = `https://${service.spec?.clusterIP ?? ""}:${String(service.spec?.ports?.[0]?.port ?? 443)}`;
    const issuer = issuerHttp(caPem, 15_000, `tessera.${TESSERA_NAMESPACE}.svc`);
    const replies: StreamedExchange[] = [];
    const stopStream = new AbortController();
    const stream = (async () => {
      while (!stopStream.signal.aborted) {
        replies.push(await exchangeAsTheSidecar(() => issuer.exchange(issuerUrl, subjectToken, AUDIENCE)));
        await sleep(STREAM_PAUSE_MS);
      }
    })();

    const coordination = adminKubeConfig().makeApiClient(CoordinationV1Api);
    const readLease = () => coordination.readNamespacedLease({ name: LEADER_LEASE_NAME, namespace: TESSERA_NAMESPACE });
    const lease = await readLease();
    const leader = lease.spec?.holderIdentity ?? "";
    const leaseDurationS = lease.spec?.leaseDurationSeconds ?? 0;
    expect(leaseDurationS).toBeGreaterThan(0);
    const leaderPod = await clients.core.readNamespacedPod({ name: leader, namespace: TESSERA_NAMESPACE });
    const leaderContainer = leaderPod.status?.containerStatuses?.[0];
    const restartsBefore = leaderContainer?.restartCount ?? 0;
    const before = await appCounts();

    // A few seconds of exchanges before the crash, so the stream is known to be flowing.
    await sleep(3_000);
    const atKill = await appCounts();
    const killedAt = Date.now();
    const killed = await crashContainer(runtimeContainerId(leaderContainer?.containerID));
    expect(killed.length).toBeGreaterThan(0);

    const newHolder = await waitFor(
      async () => {
        const holder = (await readLease()).spec?.holderIdentity ?? "";
        return holder !== "" && holder !== leader ? holder : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100, description: "another replica to hold the leader Lease" },
    );
    const handoverMs = Date.now() - killedAt;
    const atHandover = await appCounts();
    // A figure for docs/development.md: crash to the other replica holding the Lease.
    console.log(
      `[node tier] leader crash to the other replica holding the Lease in ${String(handoverMs)} ms (lease ${String(leaseDurationS)} s, retry ${String(RETRY_PERIOD_S)} s)`,
    );

    // The killed container is back and Ready, so the exchanges ran through its restart as well.
    await waitFor(
      async () => {
        const current = await clients.core.readNamespacedPod({ name: leader, namespace: TESSERA_NAMESPACE });
        return (current.status?.containerStatuses?.[0]?.restartCount ?? 0) > restartsBefore && isReady(current);
      },
      { timeoutMs: 120_000, intervalMs: 500, description: "the killed controller container to restart and become Ready" },
    );
    await sleep(3_000);
    stopStream.abort();
    await stream;
    issuer.close();
    const after = await appCounts();

    const failed = replies.filter((r) => r.reply.status !== 200);
    for (const f of failed) {
      console.log(`[node tier] exchange through the Service failed ${String(f.atMs - killedAt)} ms after the crash: ${String(f.reply.status)} ${f.reply.error ?? f.reply.body.slice(0, 200)}`);
    }
    if (after.sidecarFailures !== before.sidecarFailures || after.failed !== before.failed) {
      const log = await clients.core.readNamespacedPodLog({ name: pod.metadata?.name ?? "", namespace, container: SIDECAR_CONTAINER_NAME });
      console.log(`[node tier] the sidecar's warnings (crash at ${new Date(killedAt).toISOString()}):\n${log.split("\n").filter((l) => l.includes('"level":40')).join("\n")}`);
    }
    console.log(
      `[node tier] through the crash, the handover and the restart: ${String(replies.length)} exchanges through the Service, ` +
        `${String(failed.length)} failed (${String(replies.reduce((n, r) => n + r.lostConnections, 0))} connections to the dead replica asked again); ` +
        `the application got ${String(after.ok - before.ok)} tokens, ${String(after.failed - before.failed)} requests failed; its sidecar made ` +
        `${String(after.sidecarRefreshes - before.sidecarRefreshes)} exchanges, ${String(after.sidecarFailures - before.sidecarFailures)} failed ` +
        `(watch polls failed: ${String(after.watchFailures - before.watchFailures)})`,
    );

    const controllers = await clients.core.listNamespacedPod({ namespace: TESSERA_NAMESPACE });
    expect(controllers.items.map((p) => p.metadata?.name)).toContain(newHolder);
    expect(newHolder).not.toBe(leader);
    expect(handoverMs).toBeLessThanOrEqual((leaseDurationS + RETRY_PERIOD_S + ALLOWANCE_S) * 1000);
    expect(replies.filter((r) => r.atMs > killedAt + handoverMs).length).toBeGreaterThan(0);
    expect(failed).toEqual([]);
    // The application kept getting tokens while no replica led, and none of its requests or its sidecar's failed.
    expect(atHandover.ok).toBeGreaterThan(atKill.ok);
    expect(after.ok).toBeGreaterThan(atHandover.ok);
    expect(after.failed).toBe(before.failed);
    expect(after.sidecarFailures).toBe(before.sidecarFailures);
  });
});
