// Tessera's chart installed on the real node with its defaults (only the image references and pull policy set):
// the controller runs as two replicas built from the repository's Dockerfile, issues its own webhook TLS, and one
// replica leads.
import { AdmissionregistrationV1Api, AppsV1Api, CoordinationV1Api } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { adminKubeConfig, kubeClients, type KubeClients } from "../integration/support/control-plane.ts";
import { waitFor } from "../integration/support/wait-for.ts";
import { nodeTier, requireNode } from "./support.ts";
import { TESSERA_NAMESPACE } from "./tessera-install.ts";

// Skipped only without root, where no node can run (the global setup says why); in CI a missing node fails instead.
describe.skipIf(!nodeTier().available)("Tessera's chart on the node tier", () => {
  let clients: KubeClients;

  beforeAll(() => {
    clients = kubeClients();
  });

  it("runs the controller as a Deployment of two Ready replicas from the images built here", async () => {
    const apps = adminKubeConfig().makeApiClient(AppsV1Api);
    const deployment = await apps.readNamespacedDeployment({ name: "tessera", namespace: TESSERA_NAMESPACE });
    expect(deployment.spec?.replicas).toBe(2);
    expect(deployment.status?.readyReplicas).toBe(2);
    const image = deployment.spec?.template.spec?.containers[0]?.image;
    expect(image).toBe(`localhost/tessera/controller:${requireNode().tesseraTag}`);
    const pods = await clients.core.listNamespacedPod({ namespace: TESSERA_NAMESPACE });
    expect(pods.items.filter((p) => p.status?.phase === "Running")).toHaveLength(2);
    expect(pods.items.every((p) => p.spec?.nodeName === requireNode().nodeName)).toBe(true);
  });

  it("issues its own webhook TLS: the serving Secret exists and both webhook configurations trust its CA", async () => {
    const secret = await clients.core.readNamespacedSecret({ name: "tessera-webhook-tls", namespace: TESSERA_NAMESPACE });
    const caPem = Buffer.from(secret.data?.["ca.crt"] ?? "", "base64").toString("utf8");
    expect(caPem).toContain("BEGIN CERTIFICATE");
    const admission = adminKubeConfig().makeApiClient(AdmissionregistrationV1Api);
    const mutating = await admission.readMutatingWebhookConfiguration({ name: "tessera" });
    const validating = await admission.readValidatingWebhookConfiguration({ name: "tessera" });
    const bundles = [...(mutating.webhooks ?? []), ...(validating.webhooks ?? [])].map((w) =>
      Buffer.from(w.clientConfig.caBundle ?? "", "base64").toString("utf8"),
    );
    expect(bundles.length).toBeGreaterThan(0);
    for (const bundle of bundles) expect(bundle).toContain(caPem.trim());
  });

  it("has one replica holding the leader Lease", async () => {
    const coordination = adminKubeConfig().makeApiClient(CoordinationV1Api);
    const holder = await waitFor(
      async () => {
        const lease = await coordination.readNamespacedLease({ name: "tessera-controller", namespace: TESSERA_NAMESPACE });
        return lease.spec?.holderIdentity ?? undefined;
      },
      { timeoutMs: 60_000, description: "a leader" },
    );
    const pods = await clients.core.listNamespacedPod({ namespace: TESSERA_NAMESPACE });
    expect(pods.items.map((p) => p.metadata?.name)).toContain(holder);
  });
});
