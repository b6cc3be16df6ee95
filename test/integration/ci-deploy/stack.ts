// A private control plane that trusts Tessera as a JWT issuer, with the real controller process (issuer, webhooks, reconcilers) on it.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { V1Namespace, V1Secret } from "@kubernetes/client-node";
import { DEFAULT_TESSERA_AUDIENCE, SECRET_WEBHOOK_TLS } from "../../../api/constants.ts";
import { renderWebhookConfigurations } from "../../../controller/src/admission/webhook-config.ts";
import { startControlPlane, type ControlPlane } from "../../controlplane/harness.ts";
import { applyObject } from "../../controlplane/manifests.ts";
import { generatePki } from "../../controlplane/pki.ts";
import {
  applyCrds,
  controlPlaneInfo,
  createPod,
  createServiceAccount,
  kubeBody,
  kubeClients,
  mintProjectedToken,
  waitFor,
  type KubeClients,
} from "../support/index.ts";
import { authenticationConfigFor } from "./authentication-config.ts";
import { freeControllerPorts, issuerUrlOf, spawnController, type SpawnedController } from "../support/controller-launcher.ts";

/** Tessera's own namespace on the private control plane. */
export const TESSERA_NAMESPACE = "tessera-system";
/** The service account allowed to call introspection and explain. */
export const AUDITOR = "auditor";

export interface CiDeployStack {
  readonly controlPlane: ControlPlane;
  readonly clients: KubeClients;
  readonly issuerUrl: string;
  /** CA of the issuer's serving certificate (what the apiserver and the sidecar trust). */
  readonly issuerCaPem: string;
  /** A projected token of the allowlisted auditor, for the audit endpoints. */
  readonly auditorToken: string;
  /** Everything the controller process wrote to stdout (JSON log lines, decision records among them). */
  controllerOutput(): string;
  stop(): Promise<void>;
}

/**
 * Starts etcd + kube-apiserver trusting the issuer that is about to listen on a chosen port, then the controller
 * process. The issuer's serving certificate is made up front and stored in tessera-webhook-tls the way cert-manager
 * would (TLS mode cert-manager), so its CA can go into the apiserver's configuration before either starts.
 */
export async function startCiDeployStack(scratchDir: string): Promise<CiDeployStack> {
  const ports = await freeControllerPorts();
  const issuerUrl = issuerUrlOf({ issuerHost: "127.0.0.1", ports });
  const issuerPki = await generatePki(new Date());
  const controlPlane = await startControlPlane({
    binaries: controlPlaneInfo().binaries,
    authenticationConfig: await authenticationConfigFor(issuerUrl, issuerPki.ca.certPem),
  });
  let controller: SpawnedController | undefined;
  try {
    const clients = kubeClients(controlPlane.kubeConfig);
    await applyCrds(clients);
    await clients.core.createNamespace({ body: kubeBody<V1Namespace>({ metadata: { name: TESSERA_NAMESPACE } }) });
    await clients.core.createNamespacedSecret({
      namespace: TESSERA_NAMESPACE,
      body: kubeBody<V1Secret>({
        metadata: { name: SECRET_WEBHOOK_TLS },
        type: "kubernetes.io/tls",
        stringData: { "tls.crt": issuerPki.serving.certPem, "tls.key": issuerPki.serving.keyPem, "ca.crt": issuerPki.ca.certPem },
      }),
    });
    await createServiceAccount(TESSERA_NAMESPACE, AUDITOR, clients);
    const auditorPod = await createPod(TESSERA_NAMESPACE, { name: `${AUDITOR}-0`, serviceAccountName: AUDITOR }, clients);
    const auditorToken = await mintProjectedToken(
      { namespace: TESSERA_NAMESPACE, serviceAccount: AUDITOR, pod: auditorPod, audience: DEFAULT_TESSERA_AUDIENCE },
      clients,
    );
    const webhooks = renderWebhookConfigurations({
      target: { kind: "url", baseUrl: `https://127.0.0.1:${ports.admission}` },
      tesseraNamespace: TESSERA_NAMESPACE,
      caBundlePem: issuerPki.ca.certPem,
    });
    await applyObject(controlPlane.kubeConfig, webhooks.mutating);
    await applyObject(controlPlane.kubeConfig, webhooks.validating);

    const kubeconfigPath = join(scratchDir, "controller.kubeconfig");
    await writeFile(kubeconfigPath, await readFile(controlPlane.kubeconfigPath, "utf8"), { mode: 0o600 });
    controller = spawnController({
      kubeconfigPath,
      namespace: TESSERA_NAMESPACE,
      podName: "controller-0",
      ports,
      issuerHost: "127.0.0.1",
      clusterName: "ci-deploy-test",
      environment: "staging",
      tlsMode: "cert-manager",
      sidecarImage: "tessera/sidecar:test",
      serviceAccountIssuer: controlPlane.serviceAccountIssuer,
      callers: { introspect: `${TESSERA_NAMESPACE}/${AUDITOR}`, explain: `${TESSERA_NAMESPACE}/${AUDITOR}` },
      logLevel: "info",
    });
    const running = controller;
    await waitFor(async () => (await running.readyzStatus()) === 200, {
      timeoutMs: 90_000,
      description: "the controller's /readyz to answer 200",
    });
    return {
      controlPlane,
      clients,
      issuerUrl,
      issuerCaPem: issuerPki.ca.certPem,
      auditorToken,
      controllerOutput: () => running.output(),
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
