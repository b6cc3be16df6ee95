// A fresh, uniquely named namespace per test: the control plane has no namespace deletion, so never reuse one.
import { randomBytes } from "node:crypto";
import type { V1Namespace } from "@kubernetes/client-node";
import { kubeBody } from "../../controlplane/plain.ts";
import { kubeClients, type KubeClients } from "./control-plane.ts";

/** Label on every namespace a test creates, so a person inspecting the control plane can tell them apart. */
export const TEST_NAMESPACE_LABEL = "test.tessera.dev/fresh";

/** Creates `<prefix>-<random>` with the test label plus `labels`; returns its name. */
export async function freshNamespace(
  prefix: string,
  labels: Readonly<Record<string, string>> = {},
  clients: KubeClients = kubeClients(),
): Promise<string> {
  const name = `${prefix.toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 40)}-${randomBytes(4).toString("hex")}`;
  await clients.core.createNamespace({
    body: kubeBody<V1Namespace>({ metadata: { name, labels: { [TEST_NAMESPACE_LABEL]: "true", ...labels } } }),
  });
  return name;
}
