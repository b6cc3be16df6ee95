// The shapes Tessera keeps in its caches: only the fields its decisions read, parsed from raw apiserver JSON.
import type { TokenAudience } from "../../../api/token-audience.ts";
import type { ClusterTokenPolicy, TokenPolicy } from "../../../api/token-policy.ts";

export interface CachedMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid: string;
  readonly resourceVersion: string;
  readonly generation?: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly deletionTimestamp?: string;
}

export interface CachedObject {
  readonly metadata: CachedMeta;
}

/** A pod reduced to what issuance, matching and the uninjected check read (10,000 of them must stay small). */
export interface SlimPod extends CachedObject {
  readonly owner?: { readonly apiVersion: string; readonly kind: string; readonly name: string };
  readonly serviceAccountName: string;
  readonly nodeName?: string;
  readonly hostNetwork: boolean;
  readonly containerNames: readonly string[];
  readonly initContainerNames: readonly string[];
  readonly phase?: string;
}

export interface SlimNamespace extends CachedObject {
  readonly kind: "Namespace";
}

/** Secrets keep their data: the issuer's signing keys and the webhook certificate live there. */
export interface CachedSecret extends CachedObject {
  readonly type?: string;
  readonly data: Readonly<Record<string, string>>;
}

export type CachedTokenPolicy = TokenPolicy & CachedObject;
export type CachedClusterTokenPolicy = ClusterTokenPolicy & CachedObject;
export type CachedTokenAudience = TokenAudience & CachedObject;

/** Annotations no decision reads and that can be large; dropped from the cache. */
const DROPPED_ANNOTATIONS = new Set(["kubectl.kubernetes.io/last-applied-configuration"]);

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** One frozen empty map shared by every object without labels or annotations (most pods have no annotations). */
const EMPTY: Readonly<Record<string, string>> = Object.freeze({});
const NO_NAMES: readonly string[] = Object.freeze([]);

/** Values longer than this are rarely shared (hashes, JSON) and are kept as they came. */
const MAX_INTERNED_LENGTH = 64;

/**
 * Hands out one copy of equal short strings. JSON.parse makes a new string for every value, so 10,000 pods held
 * 10,000 copies of their namespace, service account, phase and label values; one informer keeps one interner.
 * Bounded: when full it starts afresh (the copies already handed out stay valid, they are only no longer shared).
 */
export class StringInterner {
  readonly #seen = new Map<string, string>();
  readonly #limit: number;

  constructor(limit = 50_000) {
    this.#limit = limit;
  }

  intern(value: string): string {
    if (value.length > MAX_INTERNED_LENGTH) return value;
    const known = this.#seen.get(value);
    if (known !== undefined) return known;
    if (this.#seen.size >= this.#limit) this.#seen.clear();
    this.#seen.set(value, value);
    return value;
  }
}

const same = (value: string): string => value;

function stringMap(value: unknown, drop?: ReadonlySet<string>, intern: (value: string) => string = same): Readonly<Record<string, string>> {
  const rec = record(value);
  if (rec === undefined) return EMPTY;
  let out: Record<string, string> | undefined;
  for (const [k, v] of Object.entries(rec)) {
    if (typeof v === "string" && drop?.has(k) !== true) (out ??= {})[k] = intern(v);
  }
  return out ?? EMPTY;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Parses metadata, dropping managedFields and anything else not listed; undefined when name/uid are missing. */
export function parseMeta(raw: unknown, intern: (value: string) => string = same): CachedMeta | undefined {
  const meta = record(record(raw)?.["metadata"]);
  const name = str(meta?.["name"]);
  const uid = str(meta?.["uid"]);
  if (meta === undefined || name === undefined || uid === undefined) return undefined;
  const rawNamespace = str(meta["namespace"]);
  const namespace = rawNamespace === undefined ? undefined : intern(rawNamespace);
  const generation = meta["generation"];
  const deletionTimestamp = str(meta["deletionTimestamp"]);
  return {
    name,
    uid,
    resourceVersion: str(meta["resourceVersion"]) ?? "",
    labels: stringMap(meta["labels"], undefined, intern),
    annotations: stringMap(meta["annotations"], DROPPED_ANNOTATIONS, intern),
    ...(namespace === undefined ? {} : { namespace }),
    ...(typeof generation === "number" ? { generation } : {}),
    ...(deletionTimestamp === undefined ? {} : { deletionTimestamp }),
  };
}

function names(list: unknown, intern: (value: string) => string): readonly string[] {
  if (!Array.isArray(list) || list.length === 0) return NO_NAMES;
  const out: string[] = [];
  for (const item of list) {
    const name = str(record(item)?.["name"]);
    if (name !== undefined) out.push(intern(name));
  }
  return out;
}

function controllerOwner(raw: unknown, intern: (value: string) => string): { apiVersion: string; kind: string; name: string } | undefined {
  const refs = record(record(raw)?.["metadata"])?.["ownerReferences"];
  if (!Array.isArray(refs)) return undefined;
  for (const ref of refs) {
    const r = record(ref);
    const apiVersion = str(r?.["apiVersion"]);
    const kind = str(r?.["kind"]);
    const name = str(r?.["name"]);
    if (r?.["controller"] === true && apiVersion !== undefined && kind !== undefined && name !== undefined) {
      return { apiVersion: intern(apiVersion), kind: intern(kind), name: intern(name) };
    }
  }
  return undefined;
}

/** `intern` shares equal strings between pods (slimPodTransform gives each informer one interner). */
export function slimPod(raw: unknown, intern: (value: string) => string = same): SlimPod | undefined {
  const metadata = parseMeta(raw, intern);
  if (metadata === undefined) return undefined;
  const spec = record(record(raw)?.["spec"]);
  const status = record(record(raw)?.["status"]);
  const owner = controllerOwner(raw, intern);
  const rawNode = str(spec?.["nodeName"]);
  const nodeName = rawNode === undefined ? undefined : intern(rawNode);
  const rawPhase = str(status?.["phase"]);
  const phase = rawPhase === undefined ? undefined : intern(rawPhase);
  return {
    metadata,
    serviceAccountName: intern(str(spec?.["serviceAccountName"]) ?? "default"),
    hostNetwork: spec?.["hostNetwork"] === true,
    containerNames: names(spec?.["containers"], intern),
    initContainerNames: names(spec?.["initContainers"], intern),
    ...(owner === undefined ? {} : { owner }),
    ...(nodeName === undefined ? {} : { nodeName }),
    ...(phase === undefined ? {} : { phase }),
  };
}

/** The pods informer's transform: slimPod with one interner for every pod it caches. */
export function slimPodTransform(): (raw: unknown) => SlimPod | undefined {
  const interner = new StringInterner();
  const intern = (value: string): string => interner.intern(value);
  return (raw) => slimPod(raw, intern);
}

export function slimNamespace(raw: unknown): SlimNamespace | undefined {
  const metadata = parseMeta(raw);
  return metadata === undefined ? undefined : { kind: "Namespace", metadata };
}

export function cachedSecret(raw: unknown): CachedSecret | undefined {
  const metadata = parseMeta(raw);
  if (metadata === undefined) return undefined;
  const type = str(record(raw)?.["type"]);
  return { metadata, data: stringMap(record(raw)?.["data"]), ...(type === undefined ? {} : { type }) };
}

/** Policies are kept whole (spec and status are read); only managedFields goes. */
export function cachedPolicy<T extends CachedTokenPolicy | CachedClusterTokenPolicy | CachedTokenAudience>(kind: T["kind"]) {
  return (raw: unknown): T | undefined => {
    const metadata = parseMeta(raw);
    const rec = record(raw);
    if (metadata === undefined || rec === undefined || record(rec["spec"]) === undefined) return undefined;
    if (rec["kind"] !== undefined && rec["kind"] !== kind) return undefined;
    return { ...rec, apiVersion: "tessera.dev/v1alpha1", kind, metadata } as unknown as T;
  };
}

/** Cache key: namespace/name for namespaced objects, name for cluster-scoped ones. */
export function objectKey(meta: { readonly name: string; readonly namespace?: string }): string {
  return meta.namespace === undefined || meta.namespace === "" ? meta.name : `${meta.namespace}/${meta.name}`;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf("/");
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
