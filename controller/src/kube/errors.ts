// The reconcile area's error: one class with a closed union of codes, so callers and tests branch on the code.

export type ReconcileErrorCode =
  | "KUBE_REQUEST_FAILED"
  | "KUBE_CONFLICT"
  | "KUBE_NOT_FOUND"
  | "KUBE_GONE"
  | "WATCH_STALLED"
  | "NOT_LEADER"
  | "QUEUE_SHUT_DOWN"
  | "INVALID_OBJECT";

export class ReconcileError extends Error {
  readonly code: ReconcileErrorCode;
  /** HTTP status of the apiserver answer, when the error came from one. */
  readonly status: number | undefined;

  constructor(code: ReconcileErrorCode, message: string, options?: { status?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ReconcileError";
    this.code = code;
    this.status = options?.status;
  }
}

/** Maps an apiserver HTTP status to the closed set of codes. */
export function codeForStatus(status: number): ReconcileErrorCode {
  if (status === 404) return "KUBE_NOT_FOUND";
  if (status === 409) return "KUBE_CONFLICT";
  if (status === 410) return "KUBE_GONE";
  return "KUBE_REQUEST_FAILED";
}
