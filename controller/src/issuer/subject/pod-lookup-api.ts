// PodLookup and NamespaceLookup reading the apiserver directly (tests, tools); production reads the informer cache.
import type { CoreV1Api, V1Namespace, V1Pod } from "@kubernetes/client-node";
import { IssuerError } from "../errors.ts";
import type { NamespaceInfo, NamespaceLookup, PodInfo, PodLookup } from "./pod-lookup.ts";

function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === 404;
}

/** Reduces a Pod object to PodInfo. */
export function podInfoFrom(pod: V1Pod): PodInfo | undefined {
  const meta = pod.metadata;
  if (meta?.name === undefined || meta.namespace === undefined || meta.uid === undefined) return undefined;
  const owner = meta.ownerReferences?.find((ref) => ref.controller === true);
  return {
    namespace: meta.namespace,
    name: meta.name,
    uid: meta.uid,
    serviceAccountName: pod.spec?.serviceAccountName ?? "default",
    labels: meta.labels ?? {},
    annotations: meta.annotations ?? {},
    ...(pod.spec?.nodeName === undefined ? {} : { nodeName: pod.spec.nodeName }),
    ...(meta.deletionTimestamp === undefined ? {} : { deletionTimestamp: new Date(meta.deletionTimestamp).toISOString() }),
    ...(pod.status?.phase === undefined ? {} : { phase: pod.status.phase }),
    ...(owner === undefined ? {} : { owner: { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name } }),
  };
}

/** Reduces a Namespace object to NamespaceInfo. */
export function namespaceInfoFrom(ns: V1Namespace): NamespaceInfo | undefined {
  const name = ns.metadata?.name;
  return name === undefined ? undefined : { name, labels: ns.metadata?.labels ?? {} };
}

/** Reads pods with GET on every call. */
export function apiPodLookup(api: CoreV1Api): PodLookup {
  return {
    async get(namespace, name) {
      try {
        return podInfoFrom(await api.readNamespacedPod({ namespace, name }));
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw new IssuerError("UpstreamUnavailable", `reading pod ${namespace}/${name} failed`, { cause: error });
      }
    },
  };
}

/** Reads namespaces with GET on every call. */
export function apiNamespaceLookup(api: CoreV1Api): NamespaceLookup {
  return {
    async get(name) {
      try {
        return namespaceInfoFrom(await api.readNamespace({ name }));
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw new IssuerError("UpstreamUnavailable", `reading namespace ${name} failed`, { cause: error });
      }
    },
  };
}
