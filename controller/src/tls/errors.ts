// TLS errors: one class with a closed union of codes, so callers (admission, the controller's sync loop) branch on the code.

export type TlsErrorCode =
  /** A stored certificate or CA bundle cannot be parsed. */
  | "InvalidCertificate"
  /** The serving Secret could not be read from the apiserver. */
  | "SecretUnreadable";

export class TlsError extends Error {
  readonly code: TlsErrorCode;

  constructor(code: TlsErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TlsError";
    this.code = code;
  }
}
