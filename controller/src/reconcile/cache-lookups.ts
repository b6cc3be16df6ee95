// PodLookup and NamespaceLookup for the issuer, answered synchronously from the informer caches.
import type { NamespaceInfo, NamespaceLookup, PodInfo, PodLookup } from "../issuer/subject/pod-lookup.ts";
import type { SlimNamespace, SlimPod } from "./objects.ts";
import type { Store } from "./store.ts";

export function podInfoFromCache(pod: SlimPod): PodInfo {
  return {
    namespace: pod.metadata.namespace ?? "",
    name: pod.metadata.name,
    uid: pod.metadata.uid,
    serviceAccountName: pod.serviceAccountName,
    labels: pod.metadata.labels,
    annotations: pod.metadata.annotations,
    ...(pod.nodeName === undefined ? {} : { nodeName: pod.nodeName }),
    ...(pod.metadata.deletionTimestamp === undefined ? {} : { deletionTimestamp: pod.metadata.deletionTimestamp }),
    ...(pod.phase === undefined ? {} : { phase: pod.phase }),
    ...(pod.owner === undefined ? {} : { owner: pod.owner }),
  };
}

export function cachePodLookup(pods: Store<SlimPod>): PodLookup {
  return {
    get(namespace, name) {
      const pod = pods.get(`${namespace}/${name}`);
      return pod === undefined ? undefined : podInfoFromCache(pod);
    },
  };
}

export function cacheNamespaceLookup(namespaces: Store<SlimNamespace>): NamespaceLookup {
  return {
    get(name): NamespaceInfo | undefined {
      const ns = namespaces.get(name);
      return ns === undefined ? undefined : { name, labels: ns.metadata.labels };
    },
  };
}
