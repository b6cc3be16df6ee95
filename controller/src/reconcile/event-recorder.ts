// Writes core/v1 Events for transitions a person should see; only the leader writes, and a repeat within the window is dropped.
import type { Logger } from "pino";
import { expectOk, type KubeClient } from "../kube/kube-http.ts";
import type { Leadership } from "./leader.ts";

export interface InvolvedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly uid: string;
}

export interface EventSpec {
  readonly type: "Normal" | "Warning";
  readonly reason: string;
  readonly message: string;
}

export interface EventRecorderOptions {
  readonly client: KubeClient;
  readonly leadership: Leadership;
  /** Namespace for Events about cluster-scoped objects (Tessera's own). */
  readonly defaultNamespace: string;
  readonly component: string;
  readonly now: () => Date;
  readonly log: Logger;
  /** A repeat of the same (object, reason, message) inside this window is not written again. */
  readonly dedupWindowMs?: number;
}

export class EventRecorder {
  readonly #opts: EventRecorderOptions;
  readonly #recent = new Map<string, number>();
  #written = 0;

  constructor(opts: EventRecorderOptions) {
    this.#opts = opts;
  }

  /** Events written by this process (tests and metrics). */
  get written(): number {
    return this.#written;
  }

  async emit(involved: InvolvedObject, event: EventSpec): Promise<void> {
    const now = this.#opts.now();
    const window = this.#opts.dedupWindowMs ?? 600_000;
    const dedupKey = `${involved.uid}|${event.reason}|${event.message}`;
    const last = this.#recent.get(dedupKey);
    if (last !== undefined && now.getTime() - last < window) return;
    if (!this.#opts.leadership.isLeader()) return;
    for (const [k, t] of this.#recent) if (now.getTime() - t >= window) this.#recent.delete(k);
    this.#recent.set(dedupKey, now.getTime());
    const namespace = involved.namespace ?? this.#opts.defaultNamespace;
    const ts = now.toISOString().replace(/\.\d{3}Z$/, "Z");
    const body = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { generateName: `${involved.name}.`, namespace },
      involvedObject: involved,
      reason: event.reason,
      message: event.message,
      type: event.type,
      source: { component: this.#opts.component },
      reportingComponent: this.#opts.component,
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
    };
    try {
      expectOk(await this.#opts.client.request("POST", `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, { body }), "create event");
      this.#written++;
    } catch (err) {
      // Events are best effort: a lost one must not fail the reconcile that produced it.
      this.#recent.delete(dedupKey);
      this.#opts.log.warn({ err, reason: event.reason, object: involved.name }, "writing an event failed");
    }
  }
}
