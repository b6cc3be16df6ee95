// What a test needs to reach a running control plane, as plain JSON that can cross process boundaries.
import type { BinaryPaths } from "./build.ts";

export interface ControlPlaneInfo {
  /** Admin kubeconfig (client cert CN=admin, O=system:masters). */
  readonly kubeconfigPath: string;
  /** https://127.0.0.1:PORT */
  readonly apiserverUrl: string;
  /** CA that signed the apiserver's serving cert and the admin client cert. */
  readonly caPem: string;
  /** `iss` of service-account tokens; apiserverUrl unless the control plane was started with another. */
  readonly serviceAccountIssuer: string;
  /** Audiences the apiserver itself accepts in TokenReview (its issuer URL and Tessera's default audience). */
  readonly apiAudiences: readonly string[];
  /** Scratch directory of this control plane (logs, PKI); removed on stop. */
  readonly tempDir: string;
  /** Built binaries, so a test can start a private control plane (e.g. to restart its apiserver). */
  readonly binaries: BinaryPaths;
}
