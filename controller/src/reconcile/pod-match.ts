// Which pods a policy selects, and which of them escaped injection (pure; inputs come from the caches).
import {
  INJECT_DISABLED,
  INJECT_ENABLED,
  LABEL_INJECT,
  LABEL_NAMESPACE_INJECT,
  SIDECAR_CONTAINER_NAME,
} from "../../../api/constants.ts";
import type { ClusterPolicySubjects, PolicySubjects } from "../../../api/token-policy.ts";
import { selectorMatches } from "./label-selector.ts";
import type { SlimNamespace, SlimPod } from "./objects.ts";

/** Pods that finished no longer ask for tokens and are not counted. */
export function isActive(pod: SlimPod): boolean {
  return pod.phase !== "Succeeded" && pod.phase !== "Failed" && pod.metadata.deletionTimestamp === undefined;
}

/** Does a policy's subjects block select this pod (namespace already known to be in scope)? */
export function subjectsSelect(subjects: PolicySubjects, pod: SlimPod): boolean {
  if (subjects.serviceAccounts !== undefined && !subjects.serviceAccounts.includes(pod.serviceAccountName)) return false;
  if (subjects.podSelector !== undefined && !selectorMatches(subjects.podSelector, pod.metadata.labels)) return false;
  return subjects.serviceAccounts !== undefined || subjects.podSelector !== undefined;
}

/** Is the namespace in a ClusterTokenPolicy's scope (its namespaceSelector)? */
export function namespaceSelected(subjects: ClusterPolicySubjects, namespace: SlimNamespace | undefined): boolean {
  return namespace !== undefined && selectorMatches(subjects.namespaceSelector, namespace.metadata.labels);
}

export function clusterSubjectsSelect(subjects: ClusterPolicySubjects, pod: SlimPod, namespace: SlimNamespace | undefined): boolean {
  return namespaceSelected(subjects, namespace) && subjectsSelect(subjects, pod);
}

/** Opted in by its own label, or by its namespace's label unless the pod opts out. */
export function optedIn(pod: SlimPod, namespace: SlimNamespace | undefined): boolean {
  const podLabel = pod.metadata.labels[LABEL_INJECT];
  if (podLabel === INJECT_ENABLED) return true;
  if (podLabel === INJECT_DISABLED) return false;
  return namespace?.metadata.labels[LABEL_NAMESPACE_INJECT] === INJECT_ENABLED;
}

export function hasSidecar(pod: SlimPod): boolean {
  return pod.containerNames.includes(SIDECAR_CONTAINER_NAME) || pod.initContainerNames.includes(SIDECAR_CONTAINER_NAME);
}

/** Opted in but running without the sidecar: injection was bypassed (webhook down with failurePolicy Ignore, etc.). */
export function isUninjected(pod: SlimPod, namespace: SlimNamespace | undefined): boolean {
  return optedIn(pod, namespace) && !hasSidecar(pod);
}
