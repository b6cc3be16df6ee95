// What the engine sees of a cluster, from manifests or from a live cluster: policies, contracts, namespaces, accounts.
//
// `tessera test` and `who-can` decide with the same compile + PolicySet + decide as the issuer; this is the one
// place both turn what they read into a PolicySet and the namespace labels the engine's ownership rules look up.

import { KIND_CLUSTER_TOKEN_POLICY, KIND_TOKEN_AUDIENCE, KIND_TOKEN_POLICY, LABEL_NAMESPACE_NAME } from "../../../../api/constants.ts";
import type { ServiceAccountRef } from "../../../../api/token-policy.ts";
import { compilePolicySet, formatRef, isTokenAudience, refOf, type GovernedResource, type PolicySet } from "../../policy/index.ts";
import { kindOf, locationOf, type LoadProblem, type LoadedDocument } from "./documents.ts";

export type Labels = Readonly<Record<string, string>>;

export interface ClusterSnapshot {
  readonly resources: readonly GovernedResource[];
  /** Labels of every known namespace, including the kubernetes.io/metadata.name label the apiserver sets. */
  readonly namespaces: ReadonlyMap<string, Labels>;
  readonly serviceAccounts: readonly ServiceAccountRef[];
}

/** The labels a namespace carries in a cluster: its own, and the name label the apiserver adds to every namespace. */
export function namespaceLabelsOf(name: string, labels: Labels = {}): Labels {
  return { ...labels, [LABEL_NAMESPACE_NAME]: name };
}

/**
 * Pure: the Tessera resources, Namespaces and ServiceAccounts among loaded documents; other kinds are ignored. A
 * namespace that manifests only name (a policy's or contract's metadata.namespace) is assumed to exist with no
 * labels but its name, as it would once applied.
 */
export function snapshotOf(documents: readonly LoadedDocument[]): { snapshot: ClusterSnapshot; problems: LoadProblem[] } {
  const resources: GovernedResource[] = [];
  const namespaces = new Map<string, Labels>();
  const serviceAccounts: ServiceAccountRef[] = [];
  const problems: LoadProblem[] = [];
  const named = new Set<string>();
  for (const doc of documents) {
    const kind = kindOf(doc.value);
    const meta = metadataOf(doc.value);
    if (kind === KIND_TOKEN_POLICY || kind === KIND_CLUSTER_TOKEN_POLICY || kind === KIND_TOKEN_AUDIENCE) {
      if (meta?.name === undefined || typeof (doc.value as { spec?: unknown }).spec !== "object") {
        problems.push({ file: locationOf(doc), message: `${kind}: metadata.name and spec are required` });
        continue;
      }
      resources.push(doc.value as GovernedResource);
      if (meta.namespace !== undefined) named.add(meta.namespace);
    } else if (kind === "Namespace" && meta?.name !== undefined) {
      namespaces.set(meta.name, namespaceLabelsOf(meta.name, meta.labels));
    } else if (kind === "ServiceAccount" && meta?.name !== undefined && meta.namespace !== undefined) {
      serviceAccounts.push({ namespace: meta.namespace, name: meta.name });
      named.add(meta.namespace);
    }
  }
  for (const name of named) if (!namespaces.has(name)) namespaces.set(name, namespaceLabelsOf(name));
  return { snapshot: { resources, namespaces, serviceAccounts }, problems };
}

export interface CompiledSnapshot {
  readonly set: PolicySet;
  /** Each resource that did not compile, named, with its errors; such a resource grants nothing. */
  readonly problems: readonly LoadProblem[];
}

/** Compiles the snapshot's resources into the PolicySet the issuer would decide with. */
export function compileSnapshot(snapshot: ClusterSnapshot): CompiledSnapshot {
  let compiled;
  try {
    compiled = compilePolicySet(snapshot.resources);
  } catch (error) {
    // PolicySet.from refuses two resources with one name; the apiserver would have kept only one of them.
    const message = error instanceof Error ? error.message : String(error);
    return { set: compilePolicySet([]).set, problems: [{ file: "(manifests)", message }] };
  }
  const problems: LoadProblem[] = [];
  compiled.results.forEach((result, i) => {
    const resource = snapshot.resources[i];
    if (result.ok || resource === undefined) return;
    problems.push({ file: nameOf(resource), message: result.errors.map((e) => `${e.path}: ${e.message}`).join("; ") });
  });
  return { set: compiled.set, problems };
}

/** How a resource is named in reports. */
export function nameOf(resource: GovernedResource): string {
  if (isTokenAudience(resource)) return `TokenAudience/${resource.metadata.namespace ?? ""}/${resource.metadata.name}`;
  return formatRef(refOf(resource));
}

function metadataOf(value: unknown): { name?: string; namespace?: string; labels?: Labels } | undefined {
  if (typeof value !== "object" || value === null || !("metadata" in value)) return undefined;
  const meta = value.metadata;
  if (typeof meta !== "object" || meta === null) return undefined;
  const { name, namespace, labels } = meta as Record<string, unknown>;
  return {
    ...(typeof name === "string" ? { name } : {}),
    ...(typeof namespace === "string" ? { namespace } : {}),
    ...(isLabels(labels) ? { labels } : {}),
  };
}

function isLabels(value: unknown): value is Labels {
  return typeof value === "object" && value !== null && Object.values(value).every((v) => typeof v === "string");
}
