// Pure decisions of the issuer CA publisher: which namespaces need the CA ConfigMap, and what to do with the one found there.
import { INJECT_ENABLED, LABEL_INJECT, LABEL_MANAGED_BY, LABEL_NAMESPACE_INJECT, MANAGED_BY_TESSERA } from "../../../api/constants.ts";
import { splitPemBundle } from "../tls/pki.ts";
import type { CachedSecret, SlimNamespace, SlimPod } from "./objects.ts";
import { isActive } from "./pod-match.ts";

/** Key of the CA bundle, in the serving Secret and in the published ConfigMap (the key the webhook mounts). */
export const ISSUER_CA_KEY = "ca.crt";

/** Namespaces the webhook never injects into (its namespaceSelector excludes them), so they never need the bundle. */
export function excludedNamespaces(tesseraNamespace: string): ReadonlySet<string> {
  return new Set([tesseraNamespace, "kube-system"]);
}

/**
 * A namespace needs the bundle when the webhook can inject a pod there: the namespace opted in, or an active pod in
 * it carries the opt-in label. Terminating namespaces refuse new objects, so they need nothing.
 */
export function namespaceNeedsIssuerCa(
  namespace: SlimNamespace | undefined,
  pods: readonly SlimPod[],
  excluded: ReadonlySet<string>,
): boolean {
  if (namespace === undefined || namespace.metadata.deletionTimestamp !== undefined) return false;
  if (excluded.has(namespace.metadata.name)) return false;
  if (namespace.metadata.labels[LABEL_NAMESPACE_INJECT] === INJECT_ENABLED) return true;
  return pods.some((p) => isActive(p) && p.metadata.labels[LABEL_INJECT] === INJECT_ENABLED);
}

/**
 * The PEM bundle the sidecar must trust, from the serving Secret: ca.crt holds the current CA first and the previous
 * one until it expires (webhook-pki.ts joinBundle). cert-manager leaves ca.crt empty for some issuers; the serving
 * chain's last certificate is then the CA, as the webhook's own caBundle sync reads it.
 */
export function issuerCaBundle(secret: CachedSecret | undefined): string | undefined {
  if (secret === undefined) return undefined;
  const decode = (key: string): string => Buffer.from(secret.data[key] ?? "", "base64").toString("utf8");
  const bundle = decode(ISSUER_CA_KEY);
  if (splitPemBundle(bundle).length > 0) return bundle;
  const last = splitPemBundle(decode("tls.crt")).at(-1);
  return last === undefined ? undefined : `${last}\n`;
}

/** The ConfigMap of that name found in the namespace (read on reconcile, not cached). */
export interface FoundConfigMap {
  readonly uid: string;
  readonly resourceVersion: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly data: Readonly<Record<string, string>>;
}

export type IssuerCaDecision =
  | { readonly action: "none"; readonly reason: "not needed" | "no CA bundle yet" | "up to date" }
  | { readonly action: "create" }
  | { readonly action: "update"; readonly resourceVersion: string }
  /** Someone else's ConfigMap: left untouched; trustsCurrentCa says whether the sidecars can still reach the issuer. */
  | { readonly action: "leave foreign"; readonly trustsCurrentCa: boolean };

export function isManagedByTessera(cm: FoundConfigMap): boolean {
  return cm.labels[LABEL_MANAGED_BY] === MANAGED_BY_TESSERA;
}

/**
 * Order matters: nothing is read or written for a namespace that does not need the bundle; a foreign ConfigMap is
 * never written (an operator publishing with trust-manager keeps control); Tessera's own is written only when its
 * bundle differs. Namespaces that stop needing it keep the ConfigMap (removal is not decided here).
 */
export function decideIssuerCa(needed: boolean, bundle: string | undefined, found: FoundConfigMap | undefined): IssuerCaDecision {
  if (!needed) return { action: "none", reason: "not needed" };
  if (bundle === undefined) return { action: "none", reason: "no CA bundle yet" };
  if (found === undefined) return { action: "create" };
  if (!isManagedByTessera(found)) {
    const current = splitPemBundle(bundle)[0]?.trim();
    const trusted = splitPemBundle(found.data[ISSUER_CA_KEY] ?? "").map((pem) => pem.trim());
    return { action: "leave foreign", trustsCurrentCa: current !== undefined && trusted.includes(current) };
  }
  if (found.data[ISSUER_CA_KEY] === bundle) return { action: "none", reason: "up to date" };
  return { action: "update", resourceVersion: found.resourceVersion };
}
