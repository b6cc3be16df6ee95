// Registers Tessera's webhook configurations with the apiserver, pointed at the demo's controller, and removes them again.
import { ANNOTATION_DEMO_RUN, WEBHOOK_CONFIGURATION_NAME } from "../../api/constants.ts";
import { caBundleInstalled } from "../../controller/src/admission/webhook-certs.ts";
import { readWebhookSecret } from "../../controller/src/tls/serving-material.ts";
import { renderWebhookConfigurations } from "../../controller/src/admission/webhook-config.ts";
import type { KubeClient } from "../../controller/src/kube/kube-http.ts";
import { DemoStepError } from "./runner.ts";
import { waitUntil } from "./wait.ts";

const PATHS = {
  MutatingWebhookConfiguration: "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
  ValidatingWebhookConfiguration: "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
} as const;

export interface RegisteredWebhooks {
  readonly names: readonly string[];
  remove(): Promise<void>;
}

/**
 * Creates both configurations with an empty caBundle: the controller, once leader, issues the serving
 * certificate and patches its CA into them, exactly as in a cluster. A configuration of the same name that
 * the demo did not make belongs to an installed Tessera, and the demo stops rather than replace it.
 */
export async function registerWebhooks(kube: KubeClient, options: { admissionUrl: string; tesseraNamespace: string; runId: string }): Promise<RegisteredWebhooks> {
  const { mutating, validating } = renderWebhookConfigurations({
    target: { kind: "url", baseUrl: options.admissionUrl },
    tesseraNamespace: options.tesseraNamespace,
    caBundlePem: "",
  });
  const configurations = [mutating, validating];
  for (const configuration of configurations) {
    const path = `${PATHS[configuration.kind]}/${WEBHOOK_CONFIGURATION_NAME}`;
    const existing = await kube.request("GET", path);
    if (existing.status === 200) {
      const annotations = (existing.body as { metadata?: { annotations?: Record<string, string> } }).metadata?.annotations ?? {};
      if (annotations[ANNOTATION_DEMO_RUN] === undefined) {
        throw new DemoStepError(
          `${configuration.kind} ${WEBHOOK_CONFIGURATION_NAME} already exists and was not made by the demo: this cluster runs Tessera; use another cluster or unset KUBECONFIG`,
        );
      }
      // Left behind by a demo run that was killed: replaced.
      await kube.request("DELETE", path);
    }
  }
  const names: string[] = [];
  const remove = async (): Promise<void> => {
    for (const configuration of configurations) {
      const response = await kube.request("DELETE", `${PATHS[configuration.kind]}/${WEBHOOK_CONFIGURATION_NAME}`);
      if (response.status !== 200 && response.status !== 404) throw new DemoStepError(`deleting ${configuration.kind} failed with HTTP ${String(response.status)}`);
    }
  };
  for (const configuration of configurations) {
    const body = { ...configuration, metadata: { ...configuration.metadata, annotations: { [ANNOTATION_DEMO_RUN]: options.runId } } };
    const response = await kube.request("POST", PATHS[configuration.kind], { body });
    if (response.status !== 201) {
      await remove();
      const message = (response.body as { message?: string } | undefined)?.message ?? `HTTP ${String(response.status)}`;
      throw new DemoStepError(`registering ${configuration.kind} ${WEBHOOK_CONFIGURATION_NAME} failed: ${message}`);
    }
    names.push(`${configuration.kind}/${WEBHOOK_CONFIGURATION_NAME}`);
  }
  return { names, remove };
}

/** Waits until the controller has written its CA into both configurations; resolves with the CA bundle (PEM). */
export async function waitForCaBundle(kube: KubeClient, tesseraNamespace: string, timeoutMs: number, explain: () => string | undefined): Promise<string> {
  return waitUntil(
    async () => {
      const secret = await readWebhookSecret(kube, tesseraNamespace);
      return secret !== undefined && (await caBundleInstalled(kube, secret.caBundle)) ? secret.caBundle : undefined;
    },
    { what: "the controller to install its CA bundle in the webhook configurations", timeoutMs, intervalMs: 250, explain },
  );
}
