// Tessera through a workload's life on the real node: a policy edit reaches the running application's next token
// (the real-cluster propagation figure is measured here), and a Job with the sidecar runs to completion because a
// native sidecar does not keep a finished pod alive.
import { AppsV1Api, BatchV1Api, type V1Deployment, type V1Job, type V1Pod } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ANNOTATION_AUDIENCES,
  API_GROUP,
  API_VERSION,
  DEFAULT_TESSERA_AUDIENCE,
  RESOURCE_TOKEN_POLICIES,
} from "../../api/constants.ts";
import { issuerHttp } from "../integration/support/issuer-http.ts";
import { mintProjectedToken } from "../integration/support/tokens.ts";
import { TESSERA_NAMESPACE } from "./tessera-install.ts";
import { kubeBody } from "../controlplane/plain.ts";
import { adminKubeConfig, kubeClients, type KubeClients } from "../integration/support/control-plane.ts";
import { waitFor } from "../integration/support/wait-for.ts";
import { nodeTier, requireNode } from "./support.ts";
import { isReady, jwtClaims, optedInNamespace, policySpec, WORKLOAD_POLICY, WORKLOAD_SERVICE_ACCOUNT } from "./workloads.ts";

const AUDIENCE = "https://inventory.example";
const APP_PORT = 8080;

/** Asks the sidecar for a token five times a second and serves the latest one to the test over the bridge. */
const POLLING_APP = [
  "mkdir -p /tmp/www",
  "(while true; do",
  `  wget -q -O /tmp/www/next --header 'Tessera-Token-Request: true' "$TESSERA_ENDPOINT/v1/token?audience=${AUDIENCE}" && mv /tmp/www/next /tmp/www/latest.json`,
  "  /bin/busybox usleep 200000",
  "done) &",
  `exec /bin/busybox httpd -f -p ${APP_PORT} -h /tmp/www`,
].join("\n");

// Skipped only without root, where no node can run (the global setup says why); in CI a missing node fails instead.
describe.skipIf(!nodeTier().available)("a workload's life on the node tier", () => {
  let clients: KubeClients;

  beforeAll(() => {
    clients = kubeClients();
  });

  it("delivers a policy edit in the running application's next token", async () => {
    const namespace = await optedInNamespace(clients, "node-propagation", AUDIENCE);
    const labels = { app: "inventory" };
    const apps = adminKubeConfig().makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace,
      body: kubeBody<V1Deployment>({
        metadata: { name: "inventory", namespace },
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
                  command: ["/bin/busybox", "sh", "-c", POLLING_APP],
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
      async () => (await clients.core.listNamespacedPod({ namespace, labelSelector: "app=inventory" })).items.find(isReady),
      { timeoutMs: 180_000, intervalMs: 1_000, description: "the pod to become Ready" },
    );
    const latestClaims = async (): Promise<Record<string, unknown>> => {
      const res = await fetch(`http://${pod.status?.podIP ?? ""}:${APP_PORT}/latest.json`, { signal: AbortSignal.timeout(3_000) });
      return jwtClaims((JSON.parse(await res.text()) as { access_token: string }).access_token);
    };
    expect((await latestClaims())["tier"]).toBeUndefined();

    const policy = (await clients.custom.getNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace,
      plural: RESOURCE_TOKEN_POLICIES,
      name: WORKLOAD_POLICY,
    })) as { spec: unknown };
    const editedAt = Date.now();
    await clients.custom.replaceNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace,
      plural: RESOURCE_TOKEN_POLICIES,
      name: WORKLOAD_POLICY,
      body: { ...policy, spec: policySpec(AUDIENCE, [{ name: "tier", expression: "'gold'" }]) },
    });
    const claims = await waitFor(
      async () => {
        const latest = await latestClaims();
        return latest["tier"] === "gold" ? latest : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 100, description: "the edited policy's claim in the application's token" },
    );
    // A figure for docs/benchmarks.md, not an assertion: edit to the first token the application read with it.
    console.log(`[node tier] policy edit reached the running application's token in ${Date.now() - editedAt} ms`);
    expect(claims["tier"]).toBe("gold");
  });

  it("refuses a deleted pod's token exchange at once", async () => {
    const namespace = await optedInNamespace(clients, "node-deleted", AUDIENCE);
    await clients.core.createNamespacedPod({
      namespace,
      body: kubeBody<V1Pod>({
        metadata: { name: "gone", namespace, annotations: { [ANNOTATION_AUDIENCES]: AUDIENCE } },
        spec: {
          serviceAccountName: WORKLOAD_SERVICE_ACCOUNT,
          containers: [{ name: "app", image: requireNode().images.busybox, imagePullPolicy: "Never", command: ["/bin/busybox", "sleep", "3600"] }],
          terminationGracePeriodSeconds: 1,
        },
      }),
    });
    const pod = await waitFor(
      async () => {
        const current = await clients.core.readNamespacedPod({ name: "gone", namespace });
        return isReady(current) ? current : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 1_000, description: "the pod to become Ready" },
    );
    // The subject token the kubelet projects for this pod, requested the same way (bound to the pod).
    const subjectToken = await mintProjectedToken({
      namespace,
      serviceAccount: WORKLOAD_SERVICE_ACCOUNT,
      pod,
      audience: DEFAULT_TESSERA_AUDIENCE,
    });
    const secret = await clients.core.readNamespacedSecret({ name: "tessera-webhook-tls", namespace: TESSERA_NAMESPACE });
    const caPem = Buffer.from(secret.data?.["ca.crt"] ?? "", "base64").toString("utf8");
    const service = await clients.core.readNamespacedService({ name: "tessera", namespace: TESSERA_NAMESPACE });
    const issuerUrl = `https://${service.spec?.clusterIP ?? ""}:${String(service.spec?.ports?.[0]?.port ?? 443)}`;
    const issuer = issuerHttp(caPem, 15_000, `tessera.${TESSERA_NAMESPACE}.svc`);
    expect((await issuer.exchange(issuerUrl, subjectToken, AUDIENCE)).status).toBe(200);

    await clients.core.deleteNamespacedPod({ name: "gone", namespace, gracePeriodSeconds: 0 });
    await waitFor(
      async () => {
        try {
          await clients.core.readNamespacedPod({ name: "gone", namespace });
          return false;
        } catch {
          return true;
        }
      },
      { timeoutMs: 60_000, description: "the pod to be gone from the API" },
    );
    const refused = await issuer.exchange(issuerUrl, subjectToken, AUDIENCE);
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
  });

  it("runs a Job with the sidecar to completion", async () => {
    const namespace = await optedInNamespace(clients, "node-job", AUDIENCE);
    const batch = adminKubeConfig().makeApiClient(BatchV1Api);
    await batch.createNamespacedJob({
      namespace,
      body: kubeBody<V1Job>({
        metadata: { name: "report", namespace },
        spec: {
          backoffLimit: 0,
          template: {
            metadata: { annotations: { [ANNOTATION_AUDIENCES]: AUDIENCE } },
            spec: {
              serviceAccountName: WORKLOAD_SERVICE_ACCOUNT,
              restartPolicy: "Never",
              containers: [
                {
                  name: "report",
                  image: requireNode().images.busybox,
                  imagePullPolicy: "Never",
                  // Uses a token once, then ends: the Job is done when this container is.
                  command: [
                    "/bin/busybox",
                    "sh",
                    "-c",
                    `wget -q -O /dev/null --header 'Tessera-Token-Request: true' "$TESSERA_ENDPOINT/v1/token?audience=${AUDIENCE}"`,
                  ],
                },
              ],
            },
          },
        },
      }),
    });
    const job = await waitFor(
      async () => {
        const current = await batch.readNamespacedJob({ name: "report", namespace });
        return (current.status?.succeeded ?? 0) > 0 || (current.status?.failed ?? 0) > 0 ? current : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 1_000, description: "the Job to finish" },
    );
    expect(job.status?.succeeded).toBe(1);
    expect(job.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True")).toBe(true);
  });
});
