// ServiceAccounts and Pods for tests; without a kubelet, pods stay Pending but are real API objects with UIDs.
import type { V1Pod, V1ServiceAccount } from "@kubernetes/client-node";
import { kubeBody } from "../../controlplane/plain.ts";
import { kubeClients, type KubeClients } from "./control-plane.ts";

export async function createServiceAccount(
  namespace: string,
  name: string,
  clients: KubeClients = kubeClients(),
): Promise<V1ServiceAccount> {
  return clients.core.createNamespacedServiceAccount({
    namespace,
    body: kubeBody<V1ServiceAccount>({ metadata: { name, namespace } }),
  });
}

export interface PodParams {
  readonly name: string;
  /** Always explicit: with the ServiceAccount admission plugin off, nothing defaults it. */
  readonly serviceAccountName: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Image name only; nothing pulls it. */
  readonly image?: string;
}

/** Creates a single-container pod; the returned object carries the UID a bound token needs. */
export async function createPod(
  namespace: string,
  params: PodParams,
  clients: KubeClients = kubeClients(),
): Promise<V1Pod> {
  return clients.core.createNamespacedPod({
    namespace,
    body: kubeBody<V1Pod>({
      metadata: {
        name: params.name,
        namespace,
        labels: { ...params.labels },
        annotations: { ...params.annotations },
      },
      spec: {
        serviceAccountName: params.serviceAccountName,
        containers: [{ name: "app", image: params.image ?? "registry.k8s.io/pause:3.10" }],
      },
    }),
  });
}

/** Deletes a pod at once (no kubelet to wait for). */
export async function deletePod(namespace: string, name: string, clients: KubeClients = kubeClients()): Promise<void> {
  await clients.core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 });
}
