// Step 1: the CRDs, the controller's namespace, the webhook configurations, and the controller itself until it is ready.
import { join } from "node:path";
import type { V1Namespace, V1ServiceAccount } from "@kubernetes/client-node";
import { applyObject, crdConditions, loadManifestDir, waitForCrdsEstablished } from "../../../test/controlplane/manifests.ts";
import { kubeBody } from "../../../test/controlplane/plain.ts";
import { startDemoController, waitControllerReady, type DemoController } from "../controller.ts";
import type { StepResult } from "../runner.ts";
import { registerWebhooks, waitForCaBundle, type RegisteredWebhooks } from "../webhooks.ts";
import { SCENARIO, type DemoContext } from "./context.ts";

/** The controller's default issuerCaConfigMap, which the demo leaves as it is. */
const ISSUER_CA_CONFIGMAP = "tessera-issuer-ca";

export interface Installed {
  readonly controller: DemoController;
  /** The CA that signs the issuer's and the webhook's serving certificate (PEM). */
  readonly caPem: string;
}

export async function installAndStart(ctx: DemoContext): Promise<StepResult<Installed>> {
  const crds = (await loadManifestDir(join(ctx.repoRoot, "crds"))).map((m) => m.object).filter((o) => o.kind === "CustomResourceDefinition");
  const crdNames = crds.map((o) => o.metadata?.name ?? "");
  for (const crd of crds) await applyObject(ctx.cluster.kubeConfig, crd);
  await waitForCrdsEstablished(ctx.cluster.kubeConfig, crdNames);
  const established = await Promise.all(
    crdNames.map(async (name) => ({ name, established: (await crdConditions(ctx.cluster.kubeConfig, name)).get("Established")?.status === "True" })),
  );

  const ns = SCENARIO.tesseraNamespace;
  await applyObject(ctx.cluster.kubeConfig, kubeBody<V1Namespace>({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }));
  await applyObject(
    ctx.cluster.kubeConfig,
    kubeBody<V1ServiceAccount>({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: SCENARIO.operator, namespace: ns } }),
  );

  const started = ctx.now();
  let webhooks: RegisteredWebhooks | undefined;
  const controller = await startDemoController({
    kubeConfig: ctx.cluster.kubeConfig,
    kubeconfigPath: ctx.cluster.kubeconfigPath,
    repoRoot: ctx.repoRoot,
    namespace: ns,
    explainCaller: `${ns}/${SCENARIO.operator}`,
    beforeStart: async ({ admissionUrl }) => {
      const registered = await registerWebhooks(ctx.kube, { admissionUrl, tesseraNamespace: ns, runId: ctx.runId });
      webhooks = registered;
      // First of all on the way out: with the controller gone, failurePolicy Fail would refuse the objects they select.
      ctx.cleanup.add("deleted the webhook configurations", () => registered.remove(), { first: true });
    },
  });
  // Registered before the controller's stop, so it runs after it: a running controller would publish it again.
  ctx.cleanup.add(`deleted ConfigMap ${SCENARIO.policy.namespace}/${ISSUER_CA_CONFIGMAP} the controller published`, async () => {
    await ctx.core.deleteNamespacedConfigMap({ namespace: SCENARIO.policy.namespace, name: ISSUER_CA_CONFIGMAP }).catch((err: unknown) => {
      if ((err as { code?: number }).code !== 404) throw err;
    });
  });
  ctx.cleanup.add("stopped the controller", () => controller.program.stop());
  const crashed = (): string | undefined => {
    const exit = controller.program.exitDescription();
    return exit === undefined ? undefined : `the controller exited (${exit}):\n${controller.program.tail()}`;
  };
  await waitControllerReady(controller, 60_000);
  // The controller re-checks every minute; the first pass after it became leader normally finds the configurations.
  const caPem = await waitForCaBundle(ctx.kube, ns, 75_000, crashed);
  const readyMs = ctx.now() - started;
  const webhookNames = webhooks?.names ?? [];

  return {
    value: { controller, caPem },
    rows: [
      { label: "CRDs", value: established.map((c) => `${c.name}  Established=${c.established ? "True" : "False"}`).join("\n") },
      { label: "controller", value: `controller/src/main.ts, leader in namespace ${ns}, ready after ${(readyMs / 1000).toFixed(1)} s` },
      { label: "issuer", value: controller.issuerUrl },
      { label: "webhooks", value: `${webhookNames.join(", ")}\n-> ${controller.admissionUrl}, CA bundle installed by the controller` },
    ],
    data: {
      crds: established,
      controller: { namespace: ns, issuerUrl: controller.issuerUrl, admissionUrl: controller.admissionUrl, ready: true, readyMs },
      webhooks: { names: webhookNames, caBundleInstalled: true },
    },
  };
}
