// Compares a pod's own tessera-sidecar container and reserved volumes with what Tessera would inject, naming every difference.
import { isDeepStrictEqual } from "node:util";
import type { Container, EnvVar, Volume, VolumeMount } from "./pod-types.ts";

/** Which list of the pod spec holds a container. */
export type ContainerList = "initContainers" | "containers";

/** A container and the list it sits in. */
export interface PlacedContainer {
  readonly container: Container;
  readonly list: ContainerList;
}

/**
 * Where the ServiceAccount admission plugin mounts the pod's API token into every container, Tessera's sidecar
 * included, when the pod automounts it. It is the pod's own credential, which its application already holds.
 */
const SERVICE_ACCOUNT_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Longest value quoted in a message: an image reference fits, an attacker's megabyte does not. */
const QUOTE_LIMIT = 200;

function quote(value: unknown): string {
  const text = typeof value === "string" ? value : value === undefined ? "nothing" : JSON.stringify(value);
  return JSON.stringify(text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT)}...` : text);
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * A probe with the defaults the apiserver fills in made explicit, so the stored form of an injected pod (for
 * example one copied with kubectl get -o yaml) compares equal to what the injector built.
 */
function normalProbe(probe: unknown): unknown {
  if (typeof probe !== "object" || probe === null || Array.isArray(probe)) return probe;
  const p = probe as Record<string, unknown>;
  const httpGet = p["httpGet"];
  return {
    timeoutSeconds: 1,
    periodSeconds: 10,
    successThreshold: 1,
    failureThreshold: 3,
    ...p,
    ...(typeof httpGet === "object" && httpGet !== null ? { httpGet: { path: "/", scheme: "HTTP", ...httpGet } } : {}),
  };
}

/** The container's mounts without the apiserver's service-account token mount. */
function ownMounts(container: Container): unknown[] {
  return list(container.volumeMounts).filter((m) => {
    const mount = m as Partial<VolumeMount>;
    return !(mount.mountPath === SERVICE_ACCOUNT_MOUNT_PATH && mount.readOnly === true);
  });
}

function envDifferences(actual: Container, expected: Container): string[] {
  const byName = (env: unknown): Map<string, unknown> =>
    new Map(list(env).map((e) => [String((e as Partial<EnvVar>).name), e] as const));
  const have = byName(actual.env);
  const want = byName(expected.env);
  const names = new Set([...want.keys(), ...have.keys()]);
  const out: string[] = [];
  for (const name of names) {
    if (!want.has(name)) out.push(`env ${name} is not Tessera's`);
    else if (!have.has(name)) out.push(`env ${name} is missing`);
    else if (!isDeepStrictEqual(have.get(name), want.get(name))) out.push(`env ${name} differs`);
  }
  // Same set, same values, but a duplicate or another order: still not the injected list.
  if (out.length === 0 && !isDeepStrictEqual(list(actual.env), list(expected.env))) out.push("env differs in order or has duplicates");
  if (list(actual["envFrom"]).length > 0) out.push("envFrom is set (Tessera sets none)");
  return out;
}

/** Fields compared as a whole: equal to what the injector builds, absent where it builds nothing. */
const WHOLE_FIELDS = ["command", "args", "workingDir", "securityContext", "lifecycle", "volumeDevices", "restartPolicy"] as const;
const PROBES = ["startupProbe", "livenessProbe", "readinessProbe"] as const;

function absentAsEmpty(field: string, value: unknown): unknown {
  return (field === "command" || field === "args" || field === "volumeDevices") && value === undefined ? [] : value;
}

/**
 * Every way `actual` differs from `expected`, the container the injector builds for this pod, in the fields that
 * decide what runs and with which privileges: where it sits, image, command and args, env, volume mounts,
 * security context, probes and lifecycle hooks. Empty when they match. Resources, ports and pull policy may differ.
 */
export function sidecarDifferences(actual: PlacedContainer, expected: PlacedContainer): string[] {
  const out: string[] = [];
  const a = actual.container;
  const e = expected.container;
  if (actual.list !== expected.list) out.push(`it is in ${actual.list}, Tessera injects it into ${expected.list}`);
  if (a.image !== e.image) out.push(`image is ${quote(a.image)}, Tessera injects ${quote(e.image)}`);
  for (const field of WHOLE_FIELDS) {
    if (!isDeepStrictEqual(absentAsEmpty(field, a[field]), absentAsEmpty(field, e[field]))) out.push(`${field} differs`);
  }
  out.push(...envDifferences(a, e));
  if (!isDeepStrictEqual(ownMounts(a), list(e.volumeMounts))) out.push("volumeMounts differ");
  for (const probe of PROBES) {
    if (!isDeepStrictEqual(normalProbe(a[probe]), normalProbe(e[probe]))) out.push(`${probe} differs`);
  }
  return out;
}

/** The file mode the apiserver gives volume files when the pod names none (0644). */
const DEFAULT_FILE_MODE = 420;

/** A volume with the defaults the apiserver fills in (file mode, fieldRef apiVersion) made explicit. */
function normalVolume(volume: Volume): unknown {
  const out: Record<string, unknown> = structuredClone(volume);
  for (const kind of ["projected", "configMap", "downwardAPI"]) {
    const source = out[kind];
    if (typeof source !== "object" || source === null || Array.isArray(source)) continue;
    const s = source as Record<string, unknown>;
    s["defaultMode"] ??= DEFAULT_FILE_MODE;
    if (kind !== "downwardAPI") continue;
    for (const item of list(s["items"])) {
      const fieldRef = (item as Record<string, unknown>)["fieldRef"];
      if (typeof fieldRef === "object" && fieldRef !== null) (fieldRef as Record<string, unknown>)["apiVersion"] ??= "v1";
    }
  }
  return out;
}

/**
 * The differences between a volume a pod brought under a name Tessera reserves and the one Tessera injects
 * (the sidecar trusts the CA volume, reads the subject token volume and writes tokens into the token volume).
 */
export function volumeDifferences(actual: Volume, expected: Volume): string[] {
  return isDeepStrictEqual(normalVolume(actual), normalVolume(expected))
    ? []
    : [`volume "${expected.name}" is ${quote(actual)}, Tessera injects ${quote(expected)}`];
}
