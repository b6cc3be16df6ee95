// Which pods a policy selects, and which of them escaped injection (pure; inputs come from the caches).
import {
  INJECT_DISABLED,
  INJECT_ENABLED,
  LABEL_INJECT,
  LABEL_NAMESPACE_INJECT,
  SIDECAR_CONTAINER_NAME,
} from "../../../api/constants.ts";
import type { ClusterPolicySubjects, PolicySubjects } from "../../../api/token-policy.ts";
import { labelSelectorMatcher } from "../policy/selector.ts";
import type { SlimNamespace, SlimPod } from "./objects.ts";

/** Pods that finished no longer ask for tokens and are not counted. */
export function isActive(pod: SlimPod): boolean {
  return pod.phase !== "Succeeded" && pod.phase !== "Failed" && pod.metadata.deletionTimestamp === undefined;
}

/**
 * A policy's subjects block as a test of pods (namespace already known to be in scope), built once per policy:
 * the listed service accounts AND the pod selector; a block naming neither selects nothing.
 */
export function subjectsSelector(subjects: PolicySubjects): (pod: SlimPod) => boolean {
  const accounts = subjects.serviceAccounts;
  const labels = subjects.podSelector === undefined ? undefined : labelSelectorMatcher(subjects.podSelector);
  if (accounts === undefined && labels === undefined) return () => false;
  return (pod) => (accounts === undefined || accounts.includes(pod.serviceAccountName)) && (labels === undefined || labels.matches(pod.metadata.labels));
}

/** Does a policy's subjects block select this pod (namespace already known to be in scope)? */
export function subjectsSelect(subjects: PolicySubjects, pod: SlimPod): boolean {
  return subjectsSelector(subjects)(pod);
}

/** Is the namespace in a ClusterTokenPolicy's scope (its namespaceSelector)? */
export function namespaceSelected(subjects: ClusterPolicySubjects, namespace: SlimNamespace | undefined): boolean {
  return namespace !== undefined && labelSelectorMatcher(subjects.namespaceSelector).matches(namespace.metadata.labels);
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
