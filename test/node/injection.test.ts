// A user's first workload on a cluster running Tessera's chart: a labelled Deployment's pod gets the sidecar from
// the webhook, the sidecar is running before the application starts, and the application's tokens (from the local
// endpoint and from the file) verify against the issuer's JWKS as a downstream service would check them.
import { readFile } from "node:fs/promises";
import { AppsV1Api, type V1Deployment, type V1Pod } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { ANNOTATION_AUDIENCES, CLAIM_POD, SIDECAR_CONTAINER_NAME } from "../../api/constants.ts";
import { kubeBody } from "../controlplane/plain.ts";
import { fetchIssuerJwks, verifyAccessToken } from "../e2e/token-checks.ts";
import { adminKubeConfig, kubeClients, type KubeClients } from "../integration/support/control-plane.ts";
import { waitFor } from "../integration/support/wait-for.ts";
import { nodeTier, requireNode } from "./support.ts";
import { TESSERA_ISSUER_URL, TESSERA_NAMESPACE } from "./tessera-install.ts";
import { isReady, optedInNamespace, WORKLOAD_SERVICE_ACCOUNT } from "./workloads.ts";

const AUDIENCE = "https://orders.example";
const APP_PORT = 8080;

/** busybox: asks the sidecar for a token, copies the token file, then serves both to the test over the bridge. */
const APP_SCRIPT = [
  "mkdir -p /tmp/www",
  `until wget -q -O /tmp/www/endpoint.json --header 'Tessera-Token-Request: true' "$TESSERA_ENDPOINT/v1/token?audience=${AUDIENCE}"; do sleep 1; done`,
  // When the first token arrived, on the machine's clock (busybox's date has whole seconds only; uptime has 10 ms).
  "cut -d ' ' -f 1 /proc/uptime > /tmp/www/first-token-uptime",
  'until cat "$TESSERA_TOKEN_DIR"/* > /tmp/www/file-token 2>/dev/null && test -s /tmp/www/file-token; do sleep 1; done',
  `exec /bin/busybox httpd -f -p ${APP_PORT} -h /tmp/www`,
].join("\n");

/** Seconds since the machine booted: a clock the test and the pod's application share (/proc/uptime is not namespaced). */
async function uptimeS(): Promise<number> {
  return Number((await readFile("/proc/uptime", "utf8")).split(" ")[0]);
}

function deployment(namespace: string, image: string): V1Deployment {
  const labels = { app: "orders" };
  return kubeBody<V1Deployment>({
    metadata: { name: "orders", namespace },
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
              image,
              imagePullPolicy: "Never",
              command: ["/bin/busybox", "sh", "-c", APP_SCRIPT],
              readinessProbe: { exec: { command: ["/bin/busybox", "test", "-s", "/tmp/www/file-token"] }, periodSeconds: 1 },
            },
          ],
          terminationGracePeriodSeconds: 2,
        },
      },
    },
  });
}

// Skipped only without root, where no node can run (the global setup says why); in CI a missing node fails instead.
describe.skipIf(!nodeTier().available)("an injected Deployment on the node tier", () => {
  let clients: KubeClients;
  let pod: V1Pod;
  let caPem: string;
  let createdUptimeS: number;

  beforeAll(async () => {
    const node = requireNode();
    clients = kubeClients();
    const namespace = await optedInNamespace(clients, "node-orders", AUDIENCE);
    const apps = adminKubeConfig().makeApiClient(AppsV1Api);
    createdUptimeS = await uptimeS();
    await apps.createNamespacedDeployment({ namespace, body: deployment(namespace, node.images.busybox) });
    pod = await waitFor(
      async () => {
        const pods = await clients.core.listNamespacedPod({ namespace, labelSelector: "app=orders" });
        return pods.items.find(isReady);
      },
      { timeoutMs: 180_000, intervalMs: 1_000, description: "the Deployment's pod to become Ready" },
    );
    const secret = await clients.core.readNamespacedSecret({ name: "tessera-webhook-tls", namespace: TESSERA_NAMESPACE });
    caPem = Buffer.from(secret.data?.["ca.crt"] ?? "", "base64").toString("utf8");
  });

  it("gets the sidecar as a native sidecar from the webhook", () => {
    const sidecar = pod.spec?.initContainers?.find((c) => c.name === SIDECAR_CONTAINER_NAME);
    expect(sidecar?.restartPolicy).toBe("Always");
    expect(sidecar?.image).toBe(`localhost/tessera/sidecar:${requireNode().tesseraTag}`);
  });

  it("has the sidecar running and ready before the application starts", () => {
    const sidecar = pod.status?.initContainerStatuses?.find((s) => s.name === SIDECAR_CONTAINER_NAME);
    const app = pod.status?.containerStatuses?.find((s) => s.name === "app");
    expect(sidecar?.ready).toBe(true);
    const sidecarStarted = new Date(sidecar?.state?.running?.startedAt ?? 0).getTime();
    const appStarted = new Date(app?.state?.running?.startedAt ?? 0).getTime();
    expect(sidecarStarted).toBeGreaterThan(0);
    expect(sidecarStarted).toBeLessThanOrEqual(appStarted);
    expect(app?.restartCount).toBe(0);
  });

  it("gives the application tokens from the endpoint and the file that verify against the issuer's JWKS", async () => {
    const podIp = pod.status?.podIP ?? "";
    const get = async (path: string): Promise<string> => {
      const res = await fetch(`http://${podIp}:${APP_PORT}/${path}`, { signal: AbortSignal.timeout(5_000) });
      expect(res.status).toBe(200);
      return (await res.text()).trim();
    };
    const fromEndpoint = (JSON.parse(await get("endpoint.json")) as { access_token: string }).access_token;
    // A figure for docs/benchmarks.md, not an assertion: scheduling, sandbox, sidecar start, exchange, app start.
    const firstTokenMs = Math.round((Number(await get("first-token-uptime")) - createdUptimeS) * 1000);
    console.log(`[node tier] from creating the Deployment to the application holding its first token: ${String(firstTokenMs)} ms`);
    const fromFile = await get("file-token");
    const service = await clients.core.readNamespacedService({ name: "tessera", namespace: TESSERA_NAMESPACE });
    const port = service.spec?.ports?.[0]?.port ?? 443;
    // Through the Service's ClusterIP (kube-proxy's rules), as a verifier inside the cluster would reach it.
    const jwks = await fetchIssuerJwks(`https://${service.spec?.clusterIP ?? ""}:${port}`, caPem, `tessera.${TESSERA_NAMESPACE}.svc`);
    for (const token of [fromEndpoint, fromFile]) {
      const { payload } = await verifyAccessToken(token, jwks, { issuer: TESSERA_ISSUER_URL, audience: AUDIENCE });
      // The pod claim carries the node the kubelet bound the subject token to.
      expect(payload[CLAIM_POD]).toMatchObject({ name: pod.metadata?.name, node: requireNode().nodeName });
    }
  });
});
