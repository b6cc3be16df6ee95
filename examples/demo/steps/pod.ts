// Step 3: an opted-in pod from examples/internal-api; the apiserver calls the webhook, and the demo shows what it injected.
import { join } from "node:path";
import type { KubernetesObject, V1Pod, V1PodTemplateSpec } from "@kubernetes/client-node";
import { ANNOTATION_INJECTED, SIDECAR_CONTAINER_NAME } from "../../../api/constants.ts";
import { applyObject, loadManifestDir } from "../../../test/controlplane/manifests.ts";
import { kubeBody } from "../../../test/controlplane/plain.ts";
import { describeInjection, type Injection } from "../injection-view.ts";
import { DemoStepError, type StepResult } from "../runner.ts";
import { waitUntil } from "../wait.ts";
import { SCENARIO, type DemoContext } from "./context.ts";

export interface CreatedPod {
  readonly pod: V1Pod;
  readonly injection: Injection;
}

function lines(env: Readonly<Record<string, string>>): string {
  return Object.entries(env).map(([k, v]) => `${k}=${v}`).join("\n");
}

export async function createPod(ctx: DemoContext): Promise<StepResult<CreatedPod>> {
  const manifests = (await loadManifestDir(join(ctx.repoRoot, SCENARIO.workloadDir))).map((m) => m.object);
  const serviceAccount = manifests.find((o) => o.kind === "ServiceAccount");
  const deployment = manifests.find((o) => o.kind === "Deployment") as (KubernetesObject & { spec?: { template?: V1PodTemplateSpec } }) | undefined;
  const template = deployment?.spec?.template;
  if (serviceAccount === undefined || template?.spec === undefined) throw new DemoStepError(`${SCENARIO.workloadDir} lost its ServiceAccount or Deployment`);
  await applyObject(ctx.cluster.kubeConfig, serviceAccount);
  const namespace = deployment?.metadata?.namespace ?? "";
  // There is no controller-manager to turn the Deployment into pods (locally): the demo creates one pod from its template.
  const submitted = kubeBody<V1Pod>({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `${deployment?.metadata?.name ?? "pod"}-${ctx.runId}`,
      namespace,
      labels: { ...template.metadata?.labels },
      annotations: { ...template.metadata?.annotations },
    },
    spec: template.spec,
  });
  // A new webhook configuration reaches the apiserver's admission chain after a moment: dry runs until it injects.
  await waitUntil(
    async () => {
      const preview = await ctx.core.createNamespacedPod({ namespace, body: submitted, dryRun: "All" });
      return preview.metadata?.annotations?.[ANNOTATION_INJECTED] !== undefined ? true : undefined;
    },
    { what: "the apiserver to call the mutating webhook (the cluster's apiserver must run on this machine to reach the demo's controller)", timeoutMs: 20_000, intervalMs: 250 },
  );
  const stored = await ctx.core.createNamespacedPod({ namespace, body: submitted });
  const name = stored.metadata?.name ?? "";
  ctx.cleanup.add(`deleted pod ${namespace}/${name}`, async () => {
    await ctx.core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 });
  });
  const injection = describeInjection(submitted, stored, SIDECAR_CONTAINER_NAME);
  if (injection.sidecar === undefined) throw new DemoStepError(`pod ${namespace}/${name} was stored without the ${SIDECAR_CONTAINER_NAME} container`);
  return {
    value: { pod: stored, injection },
    rows: [
      { label: "pod", value: `${namespace}/${name}, service account ${stored.spec?.serviceAccountName ?? "?"}, uid ${stored.metadata?.uid ?? "?"}` },
      { label: "sidecar", value: `${injection.sidecar.name} (${injection.sidecar.kind}), image ${injection.sidecar.image}` },
      { label: "sidecar env", value: lines(injection.sidecar.env) },
      { label: "volumes", value: injection.volumes.map((v) => `${v.name}: ${v.source}`).join("\n") },
      ...injection.appEnv.map((a) => ({ label: `env of ${a.container}`, value: lines(a.env) })),
      { label: "annotations", value: lines(injection.annotations) },
    ],
    data: { pod: { namespace, name, uid: stored.metadata?.uid ?? "" }, injection },
  };
}
