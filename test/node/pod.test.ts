// A pod on the real node: scheduled by kube-scheduler, its ServiceAccount made by kube-controller-manager, its
// projected token written by the kubelet, its native sidecar started before the application, reachable over the
// node's bridge.
import type { V1Pod, V1TokenReview } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { kubeBody } from "../controlplane/plain.ts";
import { kubeClients, type KubeClients } from "../integration/support/control-plane.ts";
import { freshNamespace } from "../integration/support/namespaces.ts";
import { waitFor } from "../integration/support/wait-for.ts";
import { nodeTier, requireNode } from "./support.ts";

const AUDIENCE = "tessera.dev/issuer";
const SIDECAR_PORT = 8081;

/** busybox's httpd serves the shared directory: the sidecar's marker and the token the application copied there. */
function podWithSidecar(namespace: string, image: string): V1Pod {
  return kubeBody<V1Pod>({
    metadata: { name: "app", namespace },
    spec: {
      initContainers: [
        {
          name: "sidecar",
          image,
          imagePullPolicy: "Never",
          // A native sidecar: an init container that keeps running beside the application.
          restartPolicy: "Always",
          command: ["/bin/busybox", "sh", "-c", `date +%s > /shared/sidecar-started && exec /bin/busybox httpd -f -p ${SIDECAR_PORT} -h /shared`],
          startupProbe: { httpGet: { path: "/sidecar-started", port: SIDECAR_PORT }, periodSeconds: 1, failureThreshold: 60 },
          volumeMounts: [{ name: "shared", mountPath: "/shared" }],
        },
      ],
      containers: [
        {
          name: "app",
          image,
          imagePullPolicy: "Never",
          // Fails (and restarts) if the sidecar had not started first; otherwise publishes the token it was given.
          command: [
            "/bin/busybox",
            "sh",
            "-c",
            "test -s /shared/sidecar-started || exit 3; cp /var/run/secrets/tessera/token /shared/token; exec /bin/busybox sleep 3600",
          ],
          readinessProbe: { exec: { command: ["/bin/busybox", "test", "-s", "/shared/token"] }, periodSeconds: 1 },
          volumeMounts: [
            { name: "shared", mountPath: "/shared" },
            { name: "tessera-token", mountPath: "/var/run/secrets/tessera", readOnly: true },
          ],
        },
      ],
      volumes: [
        { name: "shared", emptyDir: {} },
        {
          name: "tessera-token",
          projected: { sources: [{ serviceAccountToken: { audience: AUDIENCE, expirationSeconds: 600, path: "token" } }] },
        },
      ],
      terminationGracePeriodSeconds: 1,
    },
  });
}

// Skipped only without root, where no node can run (the global setup says why); in CI a missing node fails instead.
describe.skipIf(!nodeTier().available)("a pod on the node tier", () => {
  let clients: KubeClients;
  let pod: V1Pod;
  let namespace: string;

  beforeAll(async () => {
    const node = requireNode();
    clients = kubeClients();
    namespace = await freshNamespace("node-pod");
    await clients.core.createNamespacedPod({ namespace, body: podWithSidecar(namespace, node.images.busybox) });
    pod = await waitFor(
      async () => {
        const current = await clients.core.readNamespacedPod({ name: "app", namespace });
        const ready = current.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
        return ready === true ? current : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500, description: "the pod to become Ready" },
    );
  });

  it("is placed on the node by the scheduler", () => {
    expect(pod.spec?.nodeName).toBe(requireNode().nodeName);
  });

  it("runs as the namespace's default ServiceAccount, which the controller-manager made", () => {
    expect(pod.spec?.serviceAccountName).toBe("default");
  });

  it("starts the native sidecar before the application, which never had to restart", () => {
    const sidecar = pod.status?.initContainerStatuses?.find((s) => s.name === "sidecar");
    const app = pod.status?.containerStatuses?.find((s) => s.name === "app");
    const sidecarStarted = sidecar?.state?.running?.startedAt;
    const appStarted = app?.state?.running?.startedAt;
    expect(sidecarStarted).toBeDefined();
    expect(appStarted).toBeDefined();
    expect(new Date(sidecarStarted ?? 0).getTime()).toBeLessThanOrEqual(new Date(appStarted ?? 0).getTime());
    expect(app?.restartCount).toBe(0);
  });

  it("is reached from the node over the bridge, and its projected token is bound to the pod and the node", async () => {
    const podIp = pod.status?.podIP;
    expect(podIp).toMatch(/^10\.244\.0\.\d+$/);
    const res = await fetch(`http://${podIp ?? ""}:${SIDECAR_PORT}/token`, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(200);
    const token = (await res.text()).trim();
    const review = await clients.auth.createTokenReview({
      body: kubeBody<V1TokenReview>({
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        spec: { token, audiences: [AUDIENCE] },
      }),
    });
    expect(review.status?.authenticated).toBe(true);
    expect(review.status?.user?.username).toBe(`system:serviceaccount:${namespace}:default`);
    expect(review.status?.user?.extra?.["authentication.kubernetes.io/pod-name"]).toEqual(["app"]);
    expect(review.status?.user?.extra?.["authentication.kubernetes.io/node-name"]).toEqual([requireNode().nodeName]);
  });
});
