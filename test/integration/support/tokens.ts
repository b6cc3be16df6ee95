// Pod-bound service-account tokens minted the way the kubelet does (TokenRequest), and the projected file it writes.
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AuthenticationV1TokenRequest, V1Pod } from "@kubernetes/client-node";
import { kubeBody } from "../../controlplane/plain.ts";
import { kubeClients, type KubeClients } from "./control-plane.ts";

export interface ProjectedTokenParams {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** The pod the token is bound to: it stops authenticating once the pod is gone. */
  readonly pod: Pick<V1Pod, "metadata">;
  readonly audience: string;
  /** The apiserver enforces a minimum of 600 s. */
  readonly expirationSeconds?: number;
}

/** Requests a token bound to the pod, as the kubelet does for a projected serviceAccountToken volume. */
export async function mintProjectedToken(
  params: ProjectedTokenParams,
  clients: KubeClients = kubeClients(),
): Promise<string> {
  const podName = params.pod.metadata?.name;
  const podUid = params.pod.metadata?.uid;
  if (podName === undefined || podUid === undefined) throw new TypeError("pod must carry metadata.name and metadata.uid");
  const response = await clients.core.createNamespacedServiceAccountToken({
    namespace: params.namespace,
    name: params.serviceAccount,
    body: kubeBody<AuthenticationV1TokenRequest>({
      spec: {
        audiences: [params.audience],
        expirationSeconds: params.expirationSeconds ?? 3600,
        boundObjectRef: { apiVersion: "v1", kind: "Pod", name: podName, uid: podUid },
      },
    }),
  });
  const token = response.status?.token;
  if (token === undefined || token === "") throw new Error("TokenRequest returned no token");
  return token;
}

/** Writes the token where a projected volume would put it: atomically (write + rename), readable by the owner only. */
export async function writeProjectedTokenFile(dir: string, token: string, fileName = "token"): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, fileName);
  const staging = join(dir, `.${fileName}.tmp`);
  await writeFile(staging, token, { mode: 0o600 });
  await rename(staging, path);
  return path;
}
