// The Kubernetes client's error: one class with a closed union of codes, so callers and tests branch on the code.

/**
 * KUBE_NOT_FOUND, KUBE_CONFLICT and KUBE_GONE are apiserver answers 404, 409 and 410 (codeForStatus);
 * KUBE_REQUEST_FAILED is any other non-2xx answer, a request timeout, or a kubeconfig without a current cluster.
 */
export type KubeErrorCode = "KUBE_REQUEST_FAILED" | "KUBE_CONFLICT" | "KUBE_NOT_FOUND" | "KUBE_GONE";

export class KubeError extends Error {
  readonly code: KubeErrorCode;
  /** HTTP status of the apiserver answer, when the error came from one. */
  readonly status: number | undefined;

  constructor(code: KubeErrorCode, message: string, options?: { status?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "KubeError";
    this.code = code;
    this.status = options?.status;
  }
}

/** Maps an apiserver HTTP status to the closed set of codes. */
export function codeForStatus(status: number): KubeErrorCode {
  if (status === 404) return "KUBE_NOT_FOUND";
  if (status === 409) return "KUBE_CONFLICT";
  if (status === 410) return "KUBE_GONE";
  return "KUBE_REQUEST_FAILED";
}
