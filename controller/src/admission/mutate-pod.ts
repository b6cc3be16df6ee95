// Pure pod mutation: validates a pod that opted in, injects Tessera into a copy and diffs it into a JSON patch.
import type { Container, Volume } from "./pod-types.ts";
import {
  ANNOTATION_INJECTED,
  ANNOTATION_ISSUER_CA,
  ENV_APP_ENDPOINT,
  ENV_APP_TOKEN_DIR,
  SIDECAR_CONTAINER_NAME,
  VOLUME_ISSUER_CA,
  VOLUME_SUBJECT_TOKEN,
  VOLUME_TOKENS,
} from "../../../api/constants.ts";
import { parseInjectionAnnotations, type InjectionRequest } from "./annotations.ts";
import { AdmissionError } from "./errors.ts";
import { TOKEN_DIR, type InjectionConfig } from "./injection-config.ts";
import { diff, type Json, type PatchOperation } from "./json-patch.ts";
import { parsePodDocument, type PodDocument } from "./pod-document.ts";
import { issuerCaVolume, sidecarContainer, subjectTokenVolume, tokensVolume } from "./sidecar-container.ts";
import { sidecarDifferences, volumeDifferences, type PlacedContainer } from "./sidecar-match.ts";

export interface MutationResult {
  /** The mutated copy. */
  readonly pod: PodDocument;
  /** RFC 6902 operations turning the input into `pod`; empty when nothing changed. */
  readonly patch: readonly PatchOperation[];
  /** What the pod's annotations asked for (used for admission warnings). */
  readonly request: InjectionRequest;
  /** The input already carried the injected annotation (a reinvocation, or a pod copied from an injected one). */
  readonly wasInjected: boolean;
}

const RESERVED_VOLUMES = [VOLUME_SUBJECT_TOKEN, VOLUME_TOKENS, VOLUME_ISSUER_CA] as const;

function refuseHostNetwork(pod: PodDocument): void {
  if (pod.spec.hostNetwork === true) {
    throw new AdmissionError(
      "HostNetworkNotAllowed",
      "Tessera cannot be injected into a pod with spec.hostNetwork: true: the sidecar's loopback token endpoint " +
        "would be reachable by every process on the node. Remove hostNetwork, or remove the tessera.dev/inject label.",
    );
  }
}

/**
 * Names Tessera reserves may only be present when the pod says it was injected already; a user's own
 * container or volume under such a name would be mistaken for Tessera's.
 */
function refuseClashes(pod: PodDocument): void {
  const containers = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])];
  if (containers.some((c) => c.name === SIDECAR_CONTAINER_NAME)) {
    throw new AdmissionError(
      "NameClash",
      `container name "${SIDECAR_CONTAINER_NAME}" is reserved for Tessera's sidecar; rename the pod's container`,
    );
  }
  for (const volume of pod.spec.volumes ?? []) {
    if ((RESERVED_VOLUMES as readonly string[]).includes(volume.name)) {
      throw new AdmissionError("NameClash", `volume name "${volume.name}" is reserved for Tessera; rename the pod's volume`);
    }
  }
}

/**
 * Adds Tessera's volume unless the pod has it. A pod can only have it when marked injected (refuseClashes), and
 * keeps it only when it is the one this function would add.
 */
function ensureVolume(pod: PodDocument, volume: Volume): void {
  const volumes = (pod.spec.volumes ??= []);
  const present = volumes.filter((v) => v.name === volume.name);
  if (present.length === 0) {
    volumes.push(volume);
    return;
  }
  const problems = present.flatMap((found) => volumeDifferences(found, volume));
  if (problems.length > 0) {
    throw new AdmissionError(
      "SidecarMismatch",
      `the pod is marked injected (${ANNOTATION_INJECTED}) but carries a volume Tessera reserves that is not the one ` +
        `Tessera injects for it: ${problems.join("; ")}. Remove it and the annotation and let Tessera inject it.`,
    );
  }
}

/** Gives an application container the read-only token volume and the env that points at the sidecar. */
function wireApplicationContainer(container: Container, config: InjectionConfig, where: string): void {
  const mounts = (container.volumeMounts ??= []);
  if (!mounts.some((m) => m.name === VOLUME_TOKENS)) {
    const taken = mounts.find((m) => m.mountPath === TOKEN_DIR);
    if (taken !== undefined) {
      throw new AdmissionError(
        "NameClash",
        `${where} "${container.name}" already mounts volume "${taken.name}" at ${TOKEN_DIR}, where Tessera mounts its ` +
          "token volume; move that mount or skip the container with tessera.dev/skip-containers",
      );
    }
    mounts.push({ name: VOLUME_TOKENS, mountPath: TOKEN_DIR, readOnly: true });
  }
  // A value the container sets itself wins: the env is only added where missing.
  const env = (container.env ??= []);
  const wanted = [
    { name: ENV_APP_ENDPOINT, value: `http://127.0.0.1:${config.sidecarPort}` },
    { name: ENV_APP_TOKEN_DIR, value: TOKEN_DIR },
  ];
  for (const variable of wanted) if (!env.some((e) => e.name === variable.name)) env.push(variable);
}

/**
 * A sidecar the pod brought (it is marked injected, or refuseClashes would have refused it) is kept only when it
 * is the one this function would add: otherwise the marker would smuggle in any image, command or privileges
 * under Tessera's name. A reinvocation, or a copy of an injected pod under the same configuration, matches.
 */
function refuseForeignSidecars(present: readonly PlacedContainer[], expected: PlacedContainer): void {
  const problems = present.length > 1 ? [`the pod has ${present.length} containers named "${SIDECAR_CONTAINER_NAME}"`] : [];
  for (const found of present) problems.push(...sidecarDifferences(found, expected));
  if (problems.length === 0) return;
  throw new AdmissionError(
    "SidecarMismatch",
    `the pod is marked injected (${ANNOTATION_INJECTED}) but its "${SIDECAR_CONTAINER_NAME}" container is not the one ` +
      `Tessera injects for it: ${problems.join("; ")}. Remove the container and the annotation and let Tessera inject it.`,
  );
}

function ensureSidecar(pod: PodDocument, config: InjectionConfig, request: InjectionRequest): void {
  const sidecar = sidecarContainer(config, request.tokens);
  const present: PlacedContainer[] = [
    ...(pod.spec.initContainers ?? []).map((container) => ({ container, list: "initContainers" as const })),
    ...pod.spec.containers.map((container) => ({ container, list: "containers" as const })),
  ].filter((placed) => placed.container.name === SIDECAR_CONTAINER_NAME);
  if (present.length > 0) {
    refuseForeignSidecars(present, { container: sidecar, list: config.nativeSidecars ? "initContainers" : "containers" });
    return;
  }
  // Native: first init container, so later init containers may use tokens too. Regular: after the app's
  // containers, so tools that pick the first container (kubectl logs, exec) still pick the app.
  if (config.nativeSidecars) pod.spec.initContainers = [sidecar, ...(pod.spec.initContainers ?? [])];
  else pod.spec.containers.push(sidecar);
}

/**
 * The sidecar writes token files readable by owner and group only; the application reads them through the
 * pod's fsGroup (the token volume is group-owned by it). A pod that sets its own fsGroup keeps it.
 */
function ensureSharedGroup(pod: PodDocument, config: InjectionConfig): void {
  const existing = pod.spec["securityContext"];
  const context: Record<string, unknown> = typeof existing === "object" && existing !== null && !Array.isArray(existing) ? { ...existing } : {};
  if (context["fsGroup"] !== undefined) return;
  context["fsGroup"] = config.runAsUser;
  // Only the volumes' roots are checked, so adding the group does not walk large volumes on every start.
  context["fsGroupChangePolicy"] ??= "OnRootMismatch";
  pod.spec["securityContext"] = context;
}

/** Parses a pod's Tessera annotations without mutating it (used for warnings on pods that need no patch). */
export function injectionRequestOf(rawPod: unknown, config: InjectionConfig): InjectionRequest {
  return requestOf(parsePodDocument(rawPod), config);
}

function requestOf(pod: PodDocument, config: InjectionConfig): InjectionRequest {
  const names = new Set([...pod.spec.containers, ...(pod.spec.initContainers ?? [])].map((c) => c.name));
  return parseInjectionAnnotations(pod.metadata?.annotations ?? {}, names, config.tesseraAudience, config.maxAudiencesPerPod);
}

/**
 * Injects Tessera into a copy of `rawPod`. Every step only adds what is missing, so running it again on its
 * own output (reinvocation, or a pod copied from an injected one) changes nothing.
 * Throws AdmissionError (InvalidPod, InvalidAnnotation, HostNetworkNotAllowed, NameClash, SidecarMismatch) to deny.
 */
export function mutatePod(rawPod: Json, config: InjectionConfig): MutationResult {
  const original = parsePodDocument(rawPod);
  refuseHostNetwork(original);
  // A copy of a checked pod has the same shape: checked once, not again.
  const pod = structuredClone(original);
  const alreadyInjected = original.metadata?.annotations?.[ANNOTATION_INJECTED] !== undefined;
  const request = requestOf(original, config);
  if (!alreadyInjected) refuseClashes(original);

  const metadata = (pod.metadata ??= {});
  const podAnnotations = (metadata.annotations ??= {});
  podAnnotations[ANNOTATION_INJECTED] ??= config.injectorVersion;
  if (config.issuerCa.kind === "inline") podAnnotations[ANNOTATION_ISSUER_CA] ??= config.issuerCa.pem;

  ensureVolume(pod, subjectTokenVolume(config));
  ensureVolume(pod, tokensVolume(config));
  ensureVolume(pod, issuerCaVolume(config));

  for (const container of pod.spec.containers) {
    if (container.name !== SIDECAR_CONTAINER_NAME && !request.skipContainers.has(container.name)) {
      wireApplicationContainer(container, config, "container");
    }
  }
  // Init containers only see a running sidecar when it is a native one that starts before them.
  if (config.nativeSidecars) {
    for (const container of pod.spec.initContainers ?? []) {
      if (container.name !== SIDECAR_CONTAINER_NAME && !request.skipContainers.has(container.name)) {
        wireApplicationContainer(container, config, "init container");
      }
    }
  }
  ensureSidecar(pod, config, request);
  ensureSharedGroup(pod, config);

  return { pod, patch: diff(rawPod, asJson(pod)), request, wasInjected: alreadyInjected };
}

/**
 * The mutated copy holds only JSON values: a clone of decoded JSON plus what the helpers above add (strings,
 * numbers, booleans, plain objects and arrays). Keys left undefined count as absent in the diff and vanish
 * when the patch is serialised, so no JSON round trip is needed to make it a Json.
 */
function asJson(pod: PodDocument): Json {
  return pod as unknown as Json;
}
