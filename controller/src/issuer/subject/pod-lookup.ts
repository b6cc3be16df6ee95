// The pods and namespaces the issuer reads (from the controller's informer cache in production) and the pod-binding check.
import { IssuerError } from "../errors.ts";
import type { ServiceAccountIdentity } from "./service-account-token.ts";

/** What the issuer needs to know about a pod. */
export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly serviceAccountName: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly nodeName?: string;
  /** Set once deletion has begun: the pod is terminating. */
  readonly deletionTimestamp?: string;
  /** Pending, Running, Succeeded, Failed, Unknown. */
  readonly phase?: string;
  /** The controller owner reference, e.g. { apiVersion: "batch/v1", kind: "Job", name: "deploy-42" }. */
  readonly owner?: { readonly apiVersion: string; readonly kind: string; readonly name: string };
}

/** What the issuer needs to know about a namespace. */
export interface NamespaceInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Pod lookup by namespace and name. The controller's informer-backed implementation answers synchronously;
 * implementations that read the apiserver directly may answer with a promise.
 */
export interface PodLookup {
  get(namespace: string, name: string): PodInfo | undefined | Promise<PodInfo | undefined>;
}

/** Namespace lookup by name (labels feed policy selectors and CEL). */
export interface NamespaceLookup {
  get(name: string): NamespaceInfo | undefined | Promise<NamespaceInfo | undefined>;
}

/**
 * The token is only as good as the pod it is bound to: the pod must exist with the uid and service account the token
 * names and must not be terminating or finished. Checked against the cache, so a deleted pod's token is useless at once.
 */
export function checkPodBinding(identity: ServiceAccountIdentity, pod: PodInfo | undefined): PodInfo {
  const ref = `${identity.namespace}/${identity.pod.name}`;
  if (pod === undefined) {
    throw new IssuerError("PodNotFound", `pod ${ref}, which the token is bound to, does not exist (deleted?)`);
  }
  if (pod.uid !== identity.pod.uid) {
    throw new IssuerError(
      "PodUidMismatch",
      `pod ${ref} was recreated (uid ${pod.uid}, the token names ${identity.pod.uid}); the token belongs to a pod that is gone`,
    );
  }
  if (pod.serviceAccountName !== identity.serviceAccount.name) {
    throw new IssuerError(
      "PodServiceAccountMismatch",
      `pod ${ref} runs as service account ${pod.serviceAccountName}, not ${identity.serviceAccount.name} as the token says`,
    );
  }
  if (pod.deletionTimestamp !== undefined) {
    throw new IssuerError("PodTerminating", `pod ${ref} is terminating; no new tokens are issued to it`);
  }
  if (pod.phase === "Succeeded" || pod.phase === "Failed") {
    throw new IssuerError("PodTerminating", `pod ${ref} has finished (${pod.phase}); no new tokens are issued to it`);
  }
  return pod;
}
