// Step 2: the examples' namespaces and every example policy, and the status conditions the running controller gives them.
import { join } from "node:path";
import { KubernetesObjectApi, type KubernetesObject, type V1Namespace } from "@kubernetes/client-node";
import {
  API_GROUP,
  CONDITION_ACCEPTED,
  CONDITION_OWNER,
  CONDITION_READY,
  KIND_CLUSTER_TOKEN_POLICY,
  KIND_TOKEN_AUDIENCE,
  KIND_TOKEN_POLICY,
} from "../../../api/constants.ts";
import { applyObject, loadManifestDir } from "../../../test/controlplane/manifests.ts";
import { kubeBody } from "../../../test/controlplane/plain.ts";
import type { StepResult } from "../runner.ts";
import { waitUntil } from "../wait.ts";
import type { DemoContext } from "./context.ts";

const POLICY_KINDS: ReadonlySet<string> = new Set([KIND_TOKEN_POLICY, KIND_CLUSTER_TOKEN_POLICY, KIND_TOKEN_AUDIENCE]);

export interface PolicyCondition {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
}

export interface PolicyStatus {
  readonly kind: string;
  /** `namespace/name` or `name`. */
  readonly name: string;
  readonly conditions: readonly PolicyCondition[];
}

export function qualifiedName(object: KubernetesObject): string {
  const name = object.metadata?.name ?? "(unnamed)";
  return object.metadata?.namespace !== undefined ? `${object.metadata.namespace}/${name}` : name;
}

/** The conditions, once the controller has reconciled the object's current generation; undefined before. */
export function settledConditions(object: KubernetesObject): PolicyCondition[] | undefined {
  const status = (object as { status?: { conditions?: Record<string, unknown>[] } }).status;
  const generation = object.metadata?.generation;
  const str = (value: unknown): string => (typeof value === "string" ? value : "");
  const conditions = (status?.conditions ?? []).map((c) => ({
    type: str(c["type"]),
    status: str(c["status"]),
    reason: str(c["reason"]),
    message: str(c["message"]),
    observedGeneration: typeof c["observedGeneration"] === "number" ? c["observedGeneration"] : undefined,
  }));
  const types = new Set(conditions.map((c) => c.type));
  // Policies say Accepted and Ready; an audience owner's contract says Accepted and Owner (it decides for its audience).
  const second = object.kind === KIND_TOKEN_AUDIENCE ? CONDITION_OWNER : CONDITION_READY;
  if (!types.has(CONDITION_ACCEPTED) || !types.has(second)) return undefined;
  if (generation !== undefined && conditions.some((c) => c.observedGeneration !== undefined && c.observedGeneration !== generation)) return undefined;
  return conditions.map(({ type, status: s, reason, message }) => ({ type, status: s, reason, message }));
}

export async function examplePolicies(repoRoot: string): Promise<KubernetesObject[]> {
  return (await loadManifestDir(join(repoRoot, "examples"), true))
    .map((m) => m.object)
    .filter((o) => o.apiVersion?.split("/")[0] === API_GROUP && POLICY_KINDS.has(o.kind ?? ""));
}

/** Namespaces the examples declare (with the labels their policies read), plus bare ones their policies live in. */
async function exampleNamespaces(repoRoot: string): Promise<KubernetesObject[]> {
  const declared = new Map(
    (await loadManifestDir(join(repoRoot, "examples"), true))
      .map((m) => m.object)
      .filter((o) => o.apiVersion === "v1" && o.kind === "Namespace" && o.metadata?.name !== undefined)
      .map((o) => [o.metadata?.name ?? "", o]),
  );
  const referenced = (await examplePolicies(repoRoot)).flatMap((p) => (p.metadata?.namespace !== undefined ? [p.metadata.namespace] : []));
  return [...new Set([...declared.keys(), ...referenced])]
    .sort()
    .map((name) => declared.get(name) ?? (kubeBody<V1Namespace>({ apiVersion: "v1", kind: "Namespace", metadata: { name } }) as KubernetesObject));
}

function conditionText(conditions: readonly PolicyCondition[]): string {
  return conditions.map((c) => `${c.type}=${c.status} (${c.reason})`).join("  ");
}

export async function applyPolicies(ctx: DemoContext): Promise<StepResult<PolicyStatus[]>> {
  const namespaces = await exampleNamespaces(ctx.repoRoot);
  for (const namespace of namespaces) await applyObject(ctx.cluster.kubeConfig, namespace);
  const objects = KubernetesObjectApi.makeApiClient(ctx.cluster.kubeConfig);
  const policies = await examplePolicies(ctx.repoRoot);
  // Applied through the validating webhook, which the controller now serves.
  for (const policy of policies) await applyObject(ctx.cluster.kubeConfig, policy);
  const statuses: PolicyStatus[] = [];
  for (const policy of policies) {
    const name = qualifiedName(policy);
    const conditions = await waitUntil(
      async () =>
        settledConditions(
          await objects.read({
            apiVersion: policy.apiVersion ?? "",
            kind: policy.kind ?? "",
            metadata: { name: policy.metadata?.name ?? "", ...(policy.metadata?.namespace === undefined ? {} : { namespace: policy.metadata.namespace }) },
          }),
        ),
      { what: `the controller to set the status of ${policy.kind ?? ""} ${name}`, timeoutMs: 30_000, intervalMs: 200 },
    );
    statuses.push({ kind: policy.kind ?? "", name, conditions });
  }
  const width = Math.max(...statuses.map((s) => s.name.length));
  return {
    value: statuses,
    rows: [
      { label: "namespaces", value: namespaces.map((n) => n.metadata?.name ?? "").join(", ") },
      ...statuses.map((s) => ({
        label: s.kind,
        value: `${s.name.padEnd(width)}  ${conditionText(s.conditions)}`,
        failed: s.conditions.some((c) => c.status !== "True"),
      })),
    ],
    data: { namespaces: namespaces.map((n) => n.metadata?.name ?? ""), policies: statuses },
  };
}
