// In-memory record of the last issuance per policy, fed by the issuer and read into status (lastIssuanceTime).
import type { PolicyRef } from "../../../api/token-policy.ts";
import { ISSUANCE_TIME_GRANULARITY_MS } from "./policy-status.ts";

export function policyRefKey(ref: { readonly kind: string; readonly namespace?: string; readonly name: string }): string {
  return ref.namespace === undefined ? `${ref.kind}/${ref.name}` : `${ref.kind}/${ref.namespace}/${ref.name}`;
}

export class IssuanceTracker {
  readonly #last = new Map<string, Date>();
  readonly #notified = new Map<string, number>();
  readonly #listeners = new Set<(ref: PolicyRef) => void>();

  /** Called by the issuer after it minted a token under `ref`. */
  record(ref: PolicyRef, at: Date): void {
    const key = policyRefKey(ref);
    const prev = this.#last.get(key);
    if (prev !== undefined && prev.getTime() >= at.getTime()) return;
    this.#last.set(key, at);
    // Wake the reconciler only when the status would move (one write per policy per granularity window).
    const notified = this.#notified.get(key);
    if (notified === undefined || at.getTime() - notified >= ISSUANCE_TIME_GRANULARITY_MS) {
      this.#notified.set(key, at.getTime());
      for (const l of this.#listeners) l(ref);
    }
  }

  last(ref: { readonly kind: string; readonly namespace?: string; readonly name: string }): Date | undefined {
    return this.#last.get(policyRefKey(ref));
  }

  onRecord(listener: (ref: PolicyRef) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
