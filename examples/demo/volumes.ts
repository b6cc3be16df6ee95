// Plays the kubelet for one container: writes each volume it mounts into a local directory, as the kubelet would on a node.
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { CoreV1Api, type AuthenticationV1TokenRequest, type V1Container, type V1Pod, type V1Volume } from "@kubernetes/client-node";
import { kubeBody } from "../../test/controlplane/plain.ts";
import { DemoStepError } from "./runner.ts";

export interface MaterializedVolume {
  readonly name: string;
  readonly dir: string;
  /** What was written, for a person (never a file's content). */
  readonly wrote: string;
}

/** Write then rename, owner-only: the way the kubelet's atomic writer leaves no half-written token behind. */
async function writeAtomically(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const staging = join(dirname(path), `..${String(process.pid)}.tmp`);
  await writeFile(staging, content, { mode: 0o600 });
  await rename(staging, path);
}

async function materialize(core: CoreV1Api, pod: V1Pod, volume: V1Volume, dir: string): Promise<string> {
  const namespace = pod.metadata?.namespace ?? "";
  const token = volume.projected?.sources?.find((s) => s.serviceAccountToken !== undefined)?.serviceAccountToken;
  if (token !== undefined) {
    // The kubelet's TokenRequest: bound to this pod (it stops authenticating once the pod is gone), for the volume's audience.
    const response = await core.createNamespacedServiceAccountToken({
      namespace,
      name: pod.spec?.serviceAccountName ?? "",
      body: kubeBody<AuthenticationV1TokenRequest>({
        spec: {
          audiences: token.audience === undefined ? [] : [token.audience],
          expirationSeconds: token.expirationSeconds ?? 3600,
          boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.metadata?.name ?? "", uid: pod.metadata?.uid ?? "" },
        },
      }),
    });
    const value = response.status?.token;
    if (value === undefined || value === "") throw new DemoStepError("TokenRequest returned no token");
    await writeAtomically(join(dir, token.path), value);
    return `${token.path}: service-account token from TokenRequest (audience ${token.audience ?? "?"}, bound to the pod)`;
  }
  if (volume.configMap !== undefined) {
    const name = volume.configMap.name ?? "";
    const configMap = await core.readNamespacedConfigMap({ namespace, name });
    const items: { key: string; path: string }[] = volume.configMap.items ?? Object.keys(configMap.data ?? {}).map((key) => ({ key, path: key }));
    for (const item of items) {
      const value = configMap.data?.[item.key];
      if (value === undefined) throw new DemoStepError(`ConfigMap ${namespace}/${name} has no key ${item.key}`);
      await writeAtomically(join(dir, item.path), value);
    }
    return `${items.map((i) => i.path).join(", ")}: from ConfigMap ${namespace}/${name}`;
  }
  if (volume.emptyDir !== undefined) return "empty directory (the sidecar writes token files here)";
  if (volume.downwardAPI !== undefined) {
    for (const item of volume.downwardAPI.items ?? []) {
      const match = /^metadata\.annotations\['(.+)'\]$/.exec(item.fieldRef?.fieldPath ?? "");
      const value = match?.[1] === undefined ? undefined : pod.metadata?.annotations?.[match[1]];
      if (value === undefined) throw new DemoStepError(`the demo cannot resolve downward API field ${item.fieldRef?.fieldPath ?? "?"}`);
      await writeAtomically(join(dir, item.path), value);
    }
    return `${(volume.downwardAPI.items ?? []).map((i) => i.path).join(", ")}: from the pod's annotations`;
  }
  throw new DemoStepError(`the demo cannot play the kubelet for volume ${volume.name} (only projected tokens, ConfigMaps, emptyDir and annotations)`);
}

/** Every volume `container` mounts, written under `root`; returns volume name -> local directory. */
export async function materializeVolumes(core: CoreV1Api, pod: V1Pod, container: V1Container, root: string): Promise<MaterializedVolume[]> {
  const out: MaterializedVolume[] = [];
  for (const mount of container.volumeMounts ?? []) {
    const volume = (pod.spec?.volumes ?? []).find((v) => v.name === mount.name);
    if (volume === undefined) throw new DemoStepError(`container ${container.name} mounts ${mount.name}, which the pod does not declare`);
    const dir = join(root, volume.name);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    out.push({ name: volume.name, dir, wrote: await materialize(core, pod, volume, dir) });
  }
  return out;
}
