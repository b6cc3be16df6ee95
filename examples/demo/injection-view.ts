// What the admission webhook changed in a pod: the stored pod compared with the one the demo submitted (pure).
import type { V1Container, V1Pod, V1Volume } from "@kubernetes/client-node";

export interface InjectedSidecar {
  readonly name: string;
  readonly image: string;
  /** "native sidecar" (an init container that keeps running) or "container". */
  readonly kind: string;
  readonly env: Readonly<Record<string, string>>;
  readonly mounts: readonly { readonly volume: string; readonly mountPath: string; readonly readOnly: boolean }[];
}

export interface Injection {
  readonly sidecar: InjectedSidecar | undefined;
  readonly volumes: readonly { readonly name: string; readonly source: string }[];
  /** Environment added to the application's containers. */
  readonly appEnv: readonly { readonly container: string; readonly env: Readonly<Record<string, string>> }[];
  readonly annotations: Readonly<Record<string, string>>;
}

export function describeVolume(volume: V1Volume): string {
  const token = volume.projected?.sources?.find((s) => s.serviceAccountToken !== undefined)?.serviceAccountToken;
  if (token !== undefined) {
    return `projected service-account token, audience ${token.audience ?? "(the apiserver's)"}, ${String(token.expirationSeconds ?? 3600)} s, file ${token.path}`;
  }
  if (volume.configMap !== undefined) {
    const items = (volume.configMap.items ?? []).map((i) => `${i.key} -> ${i.path}`).join(", ");
    return `ConfigMap ${volume.configMap.name ?? "?"}${items === "" ? "" : ` (${items})`}`;
  }
  if (volume.emptyDir !== undefined) {
    return `emptyDir${volume.emptyDir.medium === undefined ? "" : ` in ${volume.emptyDir.medium}`}${volume.emptyDir.sizeLimit === undefined ? "" : `, at most ${volume.emptyDir.sizeLimit}`}`;
  }
  if (volume.downwardAPI !== undefined) return `downward API (${(volume.downwardAPI.items ?? []).map((i) => i.path).join(", ")})`;
  return "other";
}

function plainEnv(container: V1Container): Record<string, string> {
  return Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? "(from valueFrom)"]));
}

export function describeInjection(submitted: V1Pod, stored: V1Pod, sidecarName: string): Injection {
  const before = new Set([...(submitted.spec?.containers ?? []), ...(submitted.spec?.initContainers ?? [])].map((c) => c.name));
  const init = (stored.spec?.initContainers ?? []).find((c) => c.name === sidecarName);
  const regular = (stored.spec?.containers ?? []).find((c) => c.name === sidecarName);
  const container = init ?? regular;
  const sidecar: InjectedSidecar | undefined =
    container === undefined || before.has(sidecarName)
      ? undefined
      : {
          name: container.name,
          image: container.image ?? "",
          kind: init !== undefined && init.restartPolicy === "Always" ? "native sidecar: init container with restartPolicy Always" : "container",
          env: plainEnv(container),
          mounts: (container.volumeMounts ?? []).map((m) => ({ volume: m.name, mountPath: m.mountPath, readOnly: m.readOnly === true })),
        };
  const oldVolumes = new Set((submitted.spec?.volumes ?? []).map((v) => v.name));
  const volumes = (stored.spec?.volumes ?? []).filter((v) => !oldVolumes.has(v.name)).map((v) => ({ name: v.name, source: describeVolume(v) }));
  const appEnv = (stored.spec?.containers ?? [])
    .filter((c) => c.name !== sidecarName)
    .flatMap((c) => {
      const original = (submitted.spec?.containers ?? []).find((s) => s.name === c.name);
      const had = new Set((original?.env ?? []).map((e) => e.name));
      const added = Object.fromEntries(Object.entries(plainEnv(c)).filter(([name]) => !had.has(name)));
      return Object.keys(added).length === 0 ? [] : [{ container: c.name, env: added }];
    });
  const oldAnnotations = submitted.metadata?.annotations ?? {};
  const annotations = Object.fromEntries(
    Object.entries(stored.metadata?.annotations ?? {}).filter(([key, value]) => oldAnnotations[key] !== value),
  );
  return { sidecar, volumes, appEnv, annotations };
}
