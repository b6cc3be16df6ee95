// Admission errors: one base class with a closed union of codes, mapped to an AdmissionReview denial at the boundary.

/** Every way admission can refuse or fail. */
export type AdmissionErrorCode =
  | "InvalidAnnotation"
  | "HostNetworkNotAllowed"
  | "NameClash"
  | "SidecarMismatch"
  | "InvalidPod"
  | "InvalidReview"
  | "InvalidPolicy"
  | "InvalidPatch"
  | "InvalidCertificate";

export class AdmissionError extends Error {
  readonly code: AdmissionErrorCode;

  constructor(code: AdmissionErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AdmissionError";
    this.code = code;
  }
}

/** True when `error` is an AdmissionError with the given code (or any code when none is given). */
export function isAdmissionError(error: unknown, code?: AdmissionErrorCode): error is AdmissionError {
  return error instanceof AdmissionError && (code === undefined || error.code === code);
}
