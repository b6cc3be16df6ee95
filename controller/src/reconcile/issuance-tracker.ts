// In-memory record of the last issuance per policy, and the last cost-budget denial, fed by the issuer and read into status.
import type { PolicyRef } from "../../../api/token-policy.ts";
import { ISSUANCE_TIME_GRANULARITY_MS, type CostLimitRecord } from "./policy-status.ts";

export function policyRefKey(ref: { readonly kind: string; readonly namespace?: string; readonly name: string }): string {
  return ref.namespace === undefined ? `${ref.kind}/${ref.name}` : `${ref.kind}/${ref.namespace}/${ref.name}`;
}

export class IssuanceTracker {
  readonly #last = new Map<string, Date>();
  readonly #notified = new Map<string, number>();
  readonly #costLimits = new Map<string, CostLimitRecord>();
  readonly #costNotified = new Map<string, number>();
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

  /** Called by the issuer after a decision under `ref` was denied with CostLimitExceeded. */
  recordCostLimit(ref: PolicyRef, at: Date, message: string): void {
    const key = policyRefKey(ref);
    const prev = this.#costLimits.get(key);
    if (prev !== undefined && prev.at.getTime() > at.getTime()) return;
    this.#costLimits.set(key, { at, generation: ref.generation, message });
    // A new generation's first denial moves the condition at once; after that, at most one wake-up per window
    // (the message names inputs the pod's creator chooses, so a stream of them must not become a stream of writes).
    const notified = this.#costNotified.get(key);
    if (prev?.generation !== ref.generation || notified === undefined || at.getTime() - notified >= ISSUANCE_TIME_GRANULARITY_MS) {
      this.#costNotified.set(key, at.getTime());
      for (const l of this.#listeners) l(ref);
    }
  }

  costLimit(ref: { readonly kind: string; readonly namespace?: string; readonly name: string }): CostLimitRecord | undefined {
    return this.#costLimits.get(policyRefKey(ref));
  }

  onRecord(listener: (ref: PolicyRef) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
