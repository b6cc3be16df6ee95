// Loads Kubernetes manifests from YAML files and applies them with server-side apply, against any cluster.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  ApiextensionsV1Api,
  KubernetesObjectApi,
  loadYaml,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";

/** Field manager name recorded on everything Tessera's tooling applies. */
export const FIELD_MANAGER = "tessera-tooling";

export interface LoadedManifest {
  readonly file: string;
  readonly object: KubernetesObject;
}

function isKubernetesObject(value: unknown): value is KubernetesObject {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v["apiVersion"] === "string" && typeof v["kind"] === "string";
}

/**
 * Every Kubernetes object in the `.yaml`/`.yml` files of `dir`, in path order; subdirectories too when
 * `recursive`. A missing directory holds nothing.
 */
export async function loadManifestDir(dir: string, recursive = false): Promise<LoadedManifest[]> {
  let entries: string[];
  try {
    entries = await readdir(dir, { recursive });
  } catch {
    return [];
  }
  const files = entries.filter((f) => f.endsWith(".yaml") || f.endsWith(".yml")).sort();
  const manifests: LoadedManifest[] = [];
  for (const name of files) {
    const file = join(dir, name);
    for (const doc of parseAllDocuments(await readFile(file, "utf8"))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join("; ")}`);
      if (!isKubernetesObject(doc.toJS())) continue;
      // client-node serializes requests through its typed models, which drop keys they only know by their JS name
      // (a plain `x-kubernetes-validations` would vanish from a CRD): let it build its own model from the YAML.
      manifests.push({ file, object: loadYaml<KubernetesObject>(doc.toString()) });
    }
  }
  return manifests;
}

/** Server-side apply: creates or updates, idempotent, and safe against a real cluster. */
export async function applyObject(kubeConfig: KubeConfig, object: KubernetesObject): Promise<KubernetesObject> {
  const client = KubernetesObjectApi.makeApiClient(kubeConfig);
  return client.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
}

export interface CrdCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

/** The status conditions of a CustomResourceDefinition, by type. */
export async function crdConditions(kubeConfig: KubeConfig, name: string): Promise<Map<string, CrdCondition>> {
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const crd = await api.readCustomResourceDefinition({ name });
  return new Map((crd.status?.conditions ?? []).map((c) => [c.type, c]));
}

/** Waits until every named CRD is Established, i.e. the apiserver serves its resources. */
export async function waitForCrdsEstablished(
  kubeConfig: KubeConfig,
  names: readonly string[],
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const established = (await crdConditions(kubeConfig, name)).get("Established");
      if (established?.status === "True") break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
