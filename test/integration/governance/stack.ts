// A private control plane with every audience unowned (no migration rule), Tessera's webhooks registered, and the
// real controller process: the cluster a new install with the chart's defaults gives.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { V1Namespace, V1Secret } from "@kubernetes/client-node";
import { SECRET_WEBHOOK_TLS } from "../../../api/constants.ts";
import { renderWebhookConfigurations } from "../../../controller/src/admission/webhook-config.ts";
import { startControlPlane, type ControlPlane } from "../../controlplane/harness.ts";
import { applyObject } from "../../controlplane/manifests.ts";
import { generatePki } from "../../controlplane/pki.ts";
import { freeControllerPorts, issuerUrlOf, spawnController, type SpawnedController } from "../support/controller-launcher.ts";
import { applyCrds, controlPlaneInfo, kubeBody, kubeClients, waitFor, type KubeClients } from "../support/index.ts";

export const TESSERA_NAMESPACE = "tessera-system";

export interface GovernanceStack {
  readonly controlPlane: ControlPlane;
  readonly clients: KubeClients;
  readonly issuer: { readonly url: string; readonly caPem: string };
  /** The controller's health server (/healthz, /readyz, /metrics). */
  readonly healthUrl: string;
  output(): string;
  stop(): Promise<void>;
}

export async function startGovernanceStack(scratchDir: string): Promise<GovernanceStack> {
  const ports = await freeControllerPorts();
  const pki = await generatePki(new Date());
  const controlPlane = await startControlPlane({ binaries: controlPlaneInfo().binaries });
  let controller: SpawnedController | undefined;
  try {
    const clients = kubeClients(controlPlane.kubeConfig);
    await applyCrds(clients, { openEveryAudience: false });
    await clients.core.createNamespace({ body: kubeBody<V1Namespace>({ metadata: { name: TESSERA_NAMESPACE } }) });
    await clients.core.createNamespacedSecret({
      namespace: TESSERA_NAMESPACE,
      body: kubeBody<V1Secret>({
        metadata: { name: SECRET_WEBHOOK_TLS },
        type: "kubernetes.io/tls",
        stringData: { "tls.crt": pki.serving.certPem, "tls.key": pki.serving.keyPem, "ca.crt": pki.ca.certPem },
      }),
    });
    const webhooks = renderWebhookConfigurations({
      target: { kind: "url", baseUrl: `https://127.0.0.1:${ports.admission}` },
      tesseraNamespace: TESSERA_NAMESPACE,
      caBundlePem: pki.ca.certPem,
    });
    await applyObject(controlPlane.kubeConfig, webhooks.validating);
    const kubeconfigPath = join(scratchDir, "controller.kubeconfig");
    await writeFile(kubeconfigPath, await readFile(controlPlane.kubeconfigPath, "utf8"), { mode: 0o600 });
    controller = spawnController({
      kubeconfigPath,
      namespace: TESSERA_NAMESPACE,
      podName: "controller-0",
      ports,
      issuerHost: "127.0.0.1",
      clusterName: "governance-test",
      environment: "prod",
      tlsMode: "cert-manager",
      sidecarImage: "tessera/sidecar:test",
      serviceAccountIssuer: controlPlane.serviceAccountIssuer,
      logLevel: "info",
    });
    const running = controller;
    await waitFor(async () => (await running.readyzStatus()) === 200, { timeoutMs: 90_000, description: "the controller's /readyz to answer 200" });
    return {
      controlPlane,
      clients,
      issuer: { url: issuerUrlOf({ issuerHost: "127.0.0.1", ports }), caPem: pki.ca.certPem },
      healthUrl: `http://127.0.0.1:${String(ports.health)}`,
      output: () => running.output(),
      async stop() {
        await running.stop();
        await controlPlane.stop();
      },
    };
  } catch (err) {
    controller?.child.kill("SIGKILL");
    await controlPlane.stop();
    throw err;
  }
}
