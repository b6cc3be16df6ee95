// Applies the repository's CRDs (crds/*.yaml) to the shared control plane and waits until they are served.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { applyObject, loadManifestDir, waitForCrdsEstablished } from "../../controlplane/manifests.ts";
import { kubeClients, type KubeClients } from "./control-plane.ts";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const CRDS_DIR = join(REPO_ROOT, "crds");
export const EXAMPLES_DIR = join(REPO_ROOT, "examples");

/** Applies every CRD in crds/ (idempotent) and returns their names once all are Established. */
export async function applyCrds(clients: KubeClients = kubeClients()): Promise<string[]> {
  const manifests = (await loadManifestDir(CRDS_DIR)).filter((m) => m.object.kind === "CustomResourceDefinition");
  const names: string[] = [];
  for (const { object } of manifests) {
    await applyObject(clients.kubeConfig, object);
    if (object.metadata?.name !== undefined) names.push(object.metadata.name);
  }
  await waitForCrdsEstablished(clients.kubeConfig, names);
  return names;
}
