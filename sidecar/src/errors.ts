// The sidecar's one error class and the closed set of codes every sidecar failure is reported with.

/** Every way the sidecar can fail; tests and the local API assert these codes. */
export const SIDECAR_ERROR_CODES = [
  "CONFIG_INVALID",
  "SUBJECT_TOKEN_MISSING",
  "SUBJECT_TOKEN_UNREADABLE",
  "SUBJECT_TOKEN_MALFORMED",
  "SUBJECT_TOKEN_EXPIRED",
  "ISSUER_UNREACHABLE",
  "ISSUER_TIMEOUT",
  "ISSUER_UNAVAILABLE",
  "ISSUER_BAD_RESPONSE",
  "ISSUER_DENIED",
  "POD_GONE",
  "TOKEN_NOT_READY",
  "TOKEN_FILE_WRITE_FAILED",
] as const;
export type SidecarErrorCode = (typeof SIDECAR_ERROR_CODES)[number];

/** Base error of the sidecar; `code` is what callers branch on, `message` never contains a token. */
export class SidecarError extends Error {
  readonly code: SidecarErrorCode;

  constructor(code: SidecarErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SidecarError";
    this.code = code;
  }
}

/** Configuration problems, all of them at once, so an operator fixes the pod spec in one pass. */
export class ConfigError extends SidecarError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super("CONFIG_INVALID", `invalid sidecar configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}
