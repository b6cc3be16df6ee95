// In-memory tally of what audited rules would have changed, per resource and generation, fed by the issuer's
// decisions and read into each resource's status.audit.
//
// The tally is absolute, never a delta: the first reconcile of a generation adopts the counts its stored status
// already holds (a previous leader's), and every later status is that base plus what this process counted. So a
// stale cache or a repeated write can never count a request twice or lose one already written.

import { AUDIT_STATUS_EXAMPLES, AUDIT_STATUS_INTERVAL_MS, type AuditCounts, type AuditTally } from "./audit-status.ts";
import type { AuditExample } from "../../../api/token-policy.ts";
import type { Timers } from "./timers.ts";

/** A resource as audit records and status name it. */
export interface AuditedResource {
  readonly kind: "TokenPolicy" | "ClusterTokenPolicy" | "TokenAudience";
  readonly namespace?: string;
  readonly name: string;
}

export interface AuditChange {
  readonly resource: AuditedResource;
  readonly generation: number;
  readonly example: AuditExample;
}

interface Entry {
  generation: number;
  /** Adopted from the stored status on the first reconcile of this generation. */
  base: AuditCounts | undefined;
  counted: AuditCounts;
  examples: AuditExample[];
  lastChange: string | undefined;
}

export function auditResourceKey(r: AuditedResource): string {
  return r.namespace === undefined ? `${r.kind}/${r.name}` : `${r.kind}/${r.namespace}/${r.name}`;
}

const ZERO: AuditCounts = { wouldHaveDenied: 0, wouldHaveClamped: 0, wouldHaveGranted: 0 };

export class AuditTracker {
  readonly #entries = new Map<string, Entry>();
  /** When each resource's reconciler was last woken, by the timers' clock. */
  readonly #woken = new Map<string, number>();
  /** Resources with a wake-up scheduled for the end of their interval. */
  readonly #scheduled = new Set<string>();
  readonly #listeners = new Set<(resource: AuditedResource) => void>();
  readonly #timers: Timers;
  readonly #intervalMs: number;

  /** `intervalMs`: the least time between two wake-ups (so two status writes) for one resource. */
  constructor(options: { readonly timers: Timers; readonly intervalMs?: number }) {
    this.#timers = options.timers;
    this.#intervalMs = options.intervalMs ?? AUDIT_STATUS_INTERVAL_MS;
  }

  /** Called for every request an audited rule would have changed. */
  record(change: AuditChange): void {
    const key = auditResourceKey(change.resource);
    let entry = this.#entries.get(key);
    if (entry === undefined || entry.generation < change.generation) {
      entry = { generation: change.generation, base: undefined, counted: { ...ZERO }, examples: [], lastChange: undefined };
      this.#entries.set(key, entry);
    } else if (entry.generation > change.generation) {
      // A decision made with an older generation, arriving late: the counts are for the current one only.
      return;
    }
    const field = change.example.wouldHave === "denied" ? "wouldHaveDenied" : change.example.wouldHave === "clamped" ? "wouldHaveClamped" : "wouldHaveGranted";
    entry.counted = { ...entry.counted, [field]: entry.counted[field] + 1 };
    entry.examples = [change.example, ...entry.examples].slice(0, AUDIT_STATUS_EXAMPLES);
    entry.lastChange = change.example.time;
    this.#wake(key, change.resource);
  }

  /**
   * Wakes the resource's reconciler at once if it was not woken within the interval, otherwise once at the end of
   * it: a stream of requests becomes at most one status write per resource per interval, and the last change of a
   * burst still reaches the status.
   */
  #wake(key: string, resource: AuditedResource): void {
    const now = this.#timers.now();
    const woken = this.#woken.get(key);
    if (woken === undefined || now - woken >= this.#intervalMs) {
      this.#woken.set(key, now);
      for (const listener of this.#listeners) listener(resource);
      return;
    }
    if (this.#scheduled.has(key)) return;
    this.#scheduled.add(key);
    this.#timers.setTimeout(() => {
      this.#scheduled.delete(key);
      this.#wake(key, resource);
    }, woken + this.#intervalMs - now);
  }

  /**
   * The tally of a resource's generation for its status; `stored` is the status's counts when they are for the
   * same generation, adopted as the base the first time.
   */
  tally(resource: AuditedResource, generation: number, stored: AuditCounts | undefined): AuditTally | undefined {
    const entry = this.#entries.get(auditResourceKey(resource));
    if (entry?.generation !== generation) return undefined;
    entry.base ??= stored ?? ZERO;
    const { base, counted } = entry;
    return {
      counts: {
        wouldHaveDenied: base.wouldHaveDenied + counted.wouldHaveDenied,
        wouldHaveClamped: base.wouldHaveClamped + counted.wouldHaveClamped,
        wouldHaveGranted: base.wouldHaveGranted + counted.wouldHaveGranted,
      },
      examples: entry.examples,
      ...(entry.lastChange === undefined ? {} : { lastChangeTime: entry.lastChange }),
    };
  }

  onChange(listener: (resource: AuditedResource) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
