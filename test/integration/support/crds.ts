// Applies the repository's CRDs (crds/*.yaml) to the shared control plane and waits until they are served.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { applyObject, loadManifestDir, waitForCrdsEstablished } from "../../controlplane/manifests.ts";
import { kubeClients, type KubeClients } from "./control-plane.ts";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const CRDS_DIR = join(REPO_ROOT, "crds");
export const EXAMPLES_DIR = join(REPO_ROOT, "examples");

/**
 * An operator's migration rule that opens every audience no more specific rule covers (ownedBy Open), so tests of
 * other features can grant their own made-up audiences without publishing a contract for each. The owner's side is
 * tested on a private control plane without it (test/integration/governance), as a cluster with the chart's
 * defaults runs: every audience owned or denied.
 */
export const OPEN_EVERY_AUDIENCE = {
  apiVersion: "tessera.dev/v1alpha1",
  kind: "ClusterTokenPolicy",
  metadata: { name: "integration-open-every-audience" },
  spec: { owner: { team: "integration-tests" }, audienceOwnership: [{ allAudiences: true, ownedBy: "Open" }] },
} as const;

export interface ApplyCrdsOptions {
  /** Apply OPEN_EVERY_AUDIENCE as well (default true); false leaves every audience unowned until a test assigns it. */
  readonly openEveryAudience?: boolean;
}

/** Applies every CRD in crds/ (idempotent) and returns their names once all are Established. */
export async function applyCrds(clients: KubeClients = kubeClients(), options: ApplyCrdsOptions = {}): Promise<string[]> {
  const manifests = (await loadManifestDir(CRDS_DIR)).filter((m) => m.object.kind === "CustomResourceDefinition");
  const names: string[] = [];
  for (const { object } of manifests) {
    await applyObject(clients.kubeConfig, object);
    if (object.metadata?.name !== undefined) names.push(object.metadata.name);
  }
  await waitForCrdsEstablished(clients.kubeConfig, names);
  if (options.openEveryAudience !== false) await applyObject(clients.kubeConfig, structuredClone(OPEN_EVERY_AUDIENCE));
  return names;
}
