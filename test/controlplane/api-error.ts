// The apiserver's own message out of a @kubernetes/client-node error (its Status body), for people and assertions.
import { ApiException } from "@kubernetes/client-node";

export interface ApiErrorSummary {
  /** HTTP status, or undefined when the request never got an answer. */
  readonly code: number | undefined;
  /** metav1.Status.reason, e.g. "Invalid", "NotFound". */
  readonly reason: string | undefined;
  readonly message: string;
}

function statusOf(body: unknown): { reason?: unknown; message?: unknown } | undefined {
  if (typeof body === "string") {
    try {
      return statusOf(JSON.parse(body));
    } catch {
      return undefined;
    }
  }
  return typeof body === "object" && body !== null ? body : undefined;
}

export function summarizeApiError(err: unknown): ApiErrorSummary {
  if (err instanceof ApiException) {
    const status = statusOf((err as ApiException<unknown>).body);
    const message = typeof status?.message === "string" ? status.message : err.message;
    const reason = typeof status?.reason === "string" ? status.reason : undefined;
    return { code: err.code, reason, message };
  }
  return { code: undefined, reason: undefined, message: err instanceof Error ? err.message : String(err) };
}
