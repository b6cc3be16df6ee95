// The sidecar's environment as the webhook injected it, with volume paths moved to where the demo put those volumes.
import { DemoStepError } from "./runner.ts";

export interface EnvVarLike {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: unknown;
}

export interface MountLike {
  readonly name: string;
  readonly mountPath: string;
}

export interface RemappedVar {
  readonly name: string;
  readonly injected: string;
  readonly local: string;
}

export interface SidecarEnv {
  readonly env: Readonly<Record<string, string>>;
  /** Variables whose value changed, and how; everything else is exactly as injected. */
  readonly remapped: readonly RemappedVar[];
}

/**
 * In a pod, each volume is mounted at its mountPath inside the container; here the sidecar runs on this
 * machine, where those paths do not exist (and must not be written: /var/run is the host's). So every value
 * that is a mount path, or lies under one, is moved to the local directory holding that volume's files.
 * Nothing else is touched.
 */
export function remapSidecarEnv(
  env: readonly EnvVarLike[],
  mounts: readonly MountLike[],
  localDirs: ReadonlyMap<string, string>,
): SidecarEnv {
  const byDepth = [...mounts].sort((a, b) => b.mountPath.length - a.mountPath.length);
  const out: Record<string, string> = {};
  const remapped: RemappedVar[] = [];
  for (const variable of env) {
    if (variable.value === undefined) {
      throw new DemoStepError(`the sidecar's ${variable.name} comes from valueFrom, which the demo cannot resolve outside a pod`);
    }
    const mount = byDepth.find((m) => variable.value === m.mountPath || variable.value?.startsWith(`${m.mountPath.replace(/\/$/, "")}/`));
    if (mount === undefined) {
      out[variable.name] = variable.value;
      continue;
    }
    const dir = localDirs.get(mount.name);
    if (dir === undefined) throw new DemoStepError(`volume ${mount.name} (mounted at ${mount.mountPath}) has no local directory`);
    const local = `${dir}${variable.value.slice(mount.mountPath.replace(/\/$/, "").length)}`;
    out[variable.name] = local;
    remapped.push({ name: variable.name, injected: variable.value, local });
  }
  return { env: out, remapped };
}
