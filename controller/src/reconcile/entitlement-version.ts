// Pure entitlement version: a digest of everything a pod's issuance decisions read, built from per-source parts.
import { createHash } from "node:crypto";
import { CHANGE_REASON_LABELS_CHANGED, CHANGE_REASON_POLICY_CHANGED } from "../../../api/constants.ts";
import type { EntitlementChangeReason } from "../../../api/exchange.ts";

/** The parts a pod's version is made of; comparing parts tells why a version moved. */
export interface EntitlementParts {
  /** The pod's identity, labels, annotations, service account, node and owner. */
  readonly pod: string;
  /** Its namespace's labels. */
  readonly namespace: string;
  /** uid, generation and revokeBefore of every TokenPolicy in its namespace. */
  readonly namespacePolicies: string;
  /** The same for every ClusterTokenPolicy (one global epoch: a cluster policy may select any pod). */
  readonly clusterPolicies: string;
}

export interface PolicyIdentity {
  readonly uid: string;
  readonly generation: number;
  readonly revokeBefore?: string;
}

export function digest(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("base64url").slice(0, 22);
}

function sortedEntries(map: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function podPart(pod: {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccountName: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly nodeName?: string;
  readonly owner?: { readonly apiVersion: string; readonly kind: string; readonly name: string };
}): string {
  return digest([
    pod.uid,
    pod.namespace,
    pod.name,
    pod.serviceAccountName,
    sortedEntries(pod.labels),
    sortedEntries(pod.annotations),
    pod.nodeName ?? "",
    pod.owner === undefined ? "" : `${pod.owner.apiVersion}/${pod.owner.kind}/${pod.owner.name}`,
  ]);
}

export function labelsPart(labels: Readonly<Record<string, string>> | undefined): string {
  return digest(labels === undefined ? null : sortedEntries(labels));
}

export function policiesPart(policies: readonly PolicyIdentity[]): string {
  return digest(
    policies
      .map((p) => `${p.uid}:${p.generation}:${p.revokeBefore ?? ""}`)
      .sort(),
  );
}

export function versionOf(parts: EntitlementParts): string {
  return digest([parts.pod, parts.namespace, parts.namespacePolicies, parts.clusterPolicies]);
}

/** Why the version moved, in the words of the re-issuance channel. */
export function changeReason(before: EntitlementParts | undefined, after: EntitlementParts): EntitlementChangeReason {
  if (before === undefined) return CHANGE_REASON_POLICY_CHANGED;
  if (before.namespacePolicies !== after.namespacePolicies || before.clusterPolicies !== after.clusterPolicies) return CHANGE_REASON_POLICY_CHANGED;
  return CHANGE_REASON_LABELS_CHANGED;
}
