// Errors of the issuer's audit endpoints (introspect, revoke, explain): one base class, a closed union of codes.

/** Every way an audit endpoint can refuse or fail; mapped to an OAuth error body at the HTTP boundary. */
export type AuditEndpointErrorCode =
  | "Unauthenticated"
  | "Forbidden"
  | "AuthenticationUnavailable"
  | "InvalidRequest"
  | "PodNotFound"
  | "RevocationListFull"
  | "RevocationQuotaExceeded"
  | "RevocationStoreUnavailable";

export class AuditEndpointError extends Error {
  readonly code: AuditEndpointErrorCode;
  /** Seconds until retrying can succeed (RevocationQuotaExceeded); sent as Retry-After. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: AuditEndpointErrorCode, message: string, options?: ErrorOptions & { readonly retryAfterSeconds?: number }) {
    super(message, options);
    this.name = "AuditEndpointError";
    this.code = code;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/** True when `error` is an AuditEndpointError with the given code (or any code when none is given). */
export function isAuditEndpointError(error: unknown, code?: AuditEndpointErrorCode): error is AuditEndpointError {
  return error instanceof AuditEndpointError && (code === undefined || error.code === code);
}
