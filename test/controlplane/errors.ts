// The control plane harness's one error class: every failure carries a code from a closed union, tests assert it.

export type ControlPlaneErrorCode =
  | "BUILD_FAILED"
  | "BINARY_MISSING"
  | "PROCESS_EXITED"
  | "NOT_READY"
  | "NO_FREE_PORT"
  | "BAD_STATE"
  | "HELM_FAILED"
  | "NOT_ROOT"
  | "PACKAGES_FAILED"
  | "NODE_SETUP_FAILED"
  | "NODE_BUSY"
  | "TEARDOWN_INCOMPLETE"
  | "PROMTOOL_FAILED";

export class ControlPlaneError extends Error {
  readonly code: ControlPlaneErrorCode;

  constructor(code: ControlPlaneErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ControlPlaneError";
    this.code = code;
  }
}
