// The demo's steps, in order; each is a small function over the cluster that reports rows for the summary.
//
// Today: CRDs, then the example policies. Later steps (controller, webhook, a pod with its sidecar, a token and
// its decision record) slot into DEMO_STEPS without changing the runner.
import { join } from "node:path";
import { CoreV1Api, KubernetesObjectApi, type KubernetesObject, type V1Namespace } from "@kubernetes/client-node";
import { API_GROUP, KIND_CLUSTER_TOKEN_POLICY, KIND_TOKEN_POLICY } from "../../api/constants.ts";
import { summarizeApiError } from "../../test/controlplane/api-error.ts";
import {
  applyObject,
  crdConditions,
  loadManifestDir,
  waitForCrdsEstablished,
} from "../../test/controlplane/manifests.ts";
import { kubeBody } from "../../test/controlplane/plain.ts";
import type { DemoCluster } from "./cluster.ts";

export interface StepContext {
  readonly cluster: DemoCluster;
  readonly repoRoot: string;
}

export type RowResult = "applied" | "failed" | "skipped";

/** One line of the summary: an object the step touched and what became of it. */
export interface DemoRow {
  readonly kind: string;
  /** `namespace/name` or `name`. */
  readonly name: string;
  readonly result: RowResult;
  /** What the cluster says about it now (conditions), or why it failed. */
  readonly status: string;
}

export interface DemoStep {
  readonly title: string;
  run(ctx: StepContext): Promise<DemoRow[]>;
}

const POLICY_KINDS: ReadonlySet<string> = new Set([KIND_TOKEN_POLICY, KIND_CLUSTER_TOKEN_POLICY]);

function qualifiedName(object: KubernetesObject): string {
  const name = object.metadata?.name ?? "(unnamed)";
  return object.metadata?.namespace !== undefined ? `${object.metadata.namespace}/${name}` : name;
}

function conditionSummary(object: KubernetesObject): string {
  const status = (object as { status?: { conditions?: { type?: unknown; status?: unknown }[] } }).status;
  const conditions = (status?.conditions ?? []).filter(
    (c): c is { type: string; status: string } => typeof c.type === "string" && typeof c.status === "string",
  );
  if (conditions.length === 0) return "stored (no controller running to set status)";
  return conditions.map((c) => `${c.type}=${c.status}`).join(" ");
}

export const applyCrdsStep: DemoStep = {
  title: "Apply Tessera's CRDs",
  async run({ cluster, repoRoot }) {
    const crds = (await loadManifestDir(join(repoRoot, "crds"))).filter(
      (m) => m.object.kind === "CustomResourceDefinition",
    );
    const rows: DemoRow[] = [];
    for (const { object } of crds) {
      const name = qualifiedName(object);
      try {
        await applyObject(cluster.kubeConfig, object);
        await waitForCrdsEstablished(cluster.kubeConfig, [name]);
        const established = (await crdConditions(cluster.kubeConfig, name)).get("Established");
        rows.push({ kind: "CustomResourceDefinition", name, result: "applied", status: `Established=${established?.status ?? "?"}` });
      } catch (err) {
        rows.push({ kind: "CustomResourceDefinition", name, result: "failed", status: summarizeApiError(err).message });
      }
    }
    return rows;
  },
};

async function examplePolicies(repoRoot: string): Promise<KubernetesObject[]> {
  return (await loadManifestDir(join(repoRoot, "examples"), true))
    .map((m) => m.object)
    .filter((o) => o.apiVersion?.split("/")[0] === API_GROUP && POLICY_KINDS.has(o.kind ?? ""));
}

export const createExampleNamespacesStep: DemoStep = {
  title: "Create the examples' namespaces",
  async run({ cluster, repoRoot }) {
    // Namespaces the examples declare carry labels their policies read (tenant, inject); the others are bare.
    const declared = new Map(
      (await loadManifestDir(join(repoRoot, "examples"), true))
        .map((m) => m.object)
        .filter((o) => o.apiVersion === "v1" && o.kind === "Namespace" && o.metadata?.name !== undefined)
        .map((o) => [o.metadata?.name ?? "", o]),
    );
    const referenced = (await examplePolicies(repoRoot)).flatMap((p) =>
      p.metadata?.namespace !== undefined ? [p.metadata.namespace] : [],
    );
    const names = [...new Set([...declared.keys(), ...referenced])].sort();
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const rows: DemoRow[] = [];
    for (const name of names) {
      try {
        await applyObject(
          cluster.kubeConfig,
          declared.get(name) ?? kubeBody<V1Namespace>({ apiVersion: "v1", kind: "Namespace", metadata: { name } }),
        );
        const stored = await core.readNamespace({ name });
        rows.push({ kind: "Namespace", name, result: "applied", status: stored.status?.phase ?? "" });
      } catch (err) {
        rows.push({ kind: "Namespace", name, result: "failed", status: summarizeApiError(err).message });
      }
    }
    return rows;
  },
};

export const applyExamplePoliciesStep: DemoStep = {
  title: "Apply the example policies",
  async run({ cluster, repoRoot }) {
    const objects = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
    const rows: DemoRow[] = [];
    for (const policy of await examplePolicies(repoRoot)) {
      const kind = policy.kind ?? "";
      const name = qualifiedName(policy);
      try {
        await applyObject(cluster.kubeConfig, policy);
        const stored = await objects.read({
          apiVersion: policy.apiVersion ?? "",
          kind,
          metadata: {
            name: policy.metadata?.name ?? "",
            ...(policy.metadata?.namespace !== undefined ? { namespace: policy.metadata.namespace } : {}),
          },
        });
        rows.push({ kind, name, result: "applied", status: conditionSummary(stored) });
      } catch (err) {
        rows.push({ kind, name, result: "failed", status: summarizeApiError(err).message });
      }
    }
    return rows;
  },
};

/** The demo, in order. */
export const DEMO_STEPS: readonly DemoStep[] = [applyCrdsStep, createExampleNamespacesStep, applyExamplePoliciesStep];
