// The re-issuance channel's source: per-pod entitlement versions, implemented by the controller's reconcilers.
import type { EntitlementChange } from "../../../../api/exchange.ts";

/**
 * A pod's entitlement version changes whenever what it may be issued changes (policy changed or deleted, labels
 * changed, tokens revoked, pod deleted). Implemented in controller/src/reconcile/.
 */
export interface EntitlementFeed {
  /** The current version for the pod, or undefined when the pod is unknown. */
  version(podUid: string): string | undefined;
  /**
   * Resolves with the change as soon as the pod's version differs from `since` (at once when it already does), or
   * with undefined when `signal` aborts first. Must not reject on abort.
   */
  waitForChange(podUid: string, since: string, signal: AbortSignal): Promise<EntitlementChange | undefined>;
}
