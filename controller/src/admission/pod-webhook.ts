// Mutating webhook for pods: mutation (or a denial) plus policy warnings, as an AdmissionOutcome.
import { AdmissionError, isAdmissionError } from "./errors.ts";
import type { InjectionConfig } from "./injection-config.ts";
import { mutatePod } from "./mutate-pod.ts";
import type { PodDocument } from "./pod-document.ts";
import type { PodPreviewInput, PolicyPreview } from "./policy-preview.ts";
import { denial, type AdmissionOutcome, type AdmissionRequest } from "./review.ts";

export interface PodWebhookOptions {
  readonly config: InjectionConfig;
  readonly preview?: PolicyPreview;
  /** Longest wait for the preview; the pod is admitted without warnings after it (default 1000 ms). */
  readonly previewTimeoutMs?: number;
}

function previewInput(pod: PodDocument, namespace: string): PodPreviewInput {
  const metadata = pod.metadata ?? {};
  const owner = metadata.ownerReferences?.find((ref) => ref.controller === true);
  return {
    namespace,
    name: metadata.name ?? metadata.generateName ?? "",
    // Without the ServiceAccount admission plugin nothing defaults it; the apiserver normally sets "default".
    serviceAccountName: pod.spec.serviceAccountName ?? "default",
    labels: metadata.labels ?? {},
    annotations: metadata.annotations ?? {},
    ...(owner === undefined ? {} : { owner: { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name } }),
  };
}

async function previewWarnings(
  preview: PolicyPreview,
  input: PodPreviewInput,
  audiences: readonly string[],
  timeoutMs: number,
): Promise<string[]> {
  let pending: Promise<{ warnings: string[] }> | { warnings: string[] };
  try {
    pending = preview.preview(input, audiences);
  } catch {
    return ["Tessera: policies could not be checked; the pod was injected without a policy check"];
  }
  // The engine answers synchronously from its caches: no timer is armed for it on every review.
  if (!(pending instanceof Promise)) return pending.warnings;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ warnings: string[] }>((resolve) => {
    timer = setTimeout(() => {
      resolve({ warnings: ["Tessera: policies could not be checked in time; the pod was injected without a policy check"] });
    }, timeoutMs);
  });
  try {
    const result = await Promise.race([pending, timeout]);
    return result.warnings;
  } catch {
    return ["Tessera: policies could not be checked; the pod was injected without a policy check"];
  } finally {
    clearTimeout(timer);
  }
}

/** Admits a pod CREATE: anything else passes untouched, since the webhook is only registered for pod creation. */
export async function admitPod(request: AdmissionRequest, options: PodWebhookOptions): Promise<AdmissionOutcome> {
  if (request.kind.group !== "" || request.kind.kind !== "Pod" || request.operation !== "CREATE") return { allowed: true };
  if (request.object === undefined) return denial(new AdmissionError("InvalidReview", "the request carries no pod"));
  let result;
  try {
    result = mutatePod(request.object, options.config);
  } catch (error) {
    if (isAdmissionError(error)) return denial(error);
    throw error;
  }
  // A reinvoked or copied pod was previewed when it was first injected; its warnings are not repeated.
  if (options.preview === undefined || result.wasInjected) return { allowed: true, patch: result.patch };
  const namespace = request.namespace ?? result.pod.metadata?.namespace ?? "";
  const warnings = await previewWarnings(
    options.preview,
    previewInput(result.pod, namespace),
    result.request.audiences,
    options.previewTimeoutMs ?? 1000,
  );
  return { allowed: true, patch: result.patch, warnings };
}
