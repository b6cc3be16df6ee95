// Leader election over a coordination.k8s.io/v1 Lease: acquire and renew with resourceVersion concurrency, release on shutdown.
import type { Logger } from "pino";
import type { KubeClient } from "../kube/kube-http.ts";
import { holdsLeadership, observe, planStep, attemptWrite, recordWritten, releaseSpec, type LeaderState, type LeaderTiming, type LeaseSpec, type ObservedLease } from "./leader-state.ts";
import { sleep, type Timers } from "./timers.ts";

export interface LeaderElectorOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly leaseName: string;
  readonly identity: string;
  readonly timing: LeaderTiming;
  readonly timers: Timers;
  readonly now: () => Date;
  readonly log: Logger;
}

/** What writers hold: they must ask isLeader() immediately before every write. */
export interface Leadership {
  isLeader(): boolean;
  onLeadershipChange(listener: (leader: boolean) => void): () => void;
}

export class LeaderElector implements Leadership {
  readonly #opts: LeaderElectorOptions;
  readonly #listeners = new Set<(leader: boolean) => void>();
  readonly #stop = new AbortController();
  #state: LeaderState = {};
  #lastLease: ObservedLease | undefined;
  #reported = false;
  #running: Promise<void> | undefined;
  #loseTimer: unknown;

  constructor(opts: LeaderElectorOptions) {
    this.#opts = opts;
  }

  get identity(): string {
    return this.#opts.identity;
  }

  isLeader(): boolean {
    return !this.#stop.signal.aborted && holdsLeadership(this.#state, this.#opts.timers.now(), this.#opts.timing);
  }

  onLeadershipChange(listener: (leader: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  /**
   * Stops renewing; if we hold the lease, releases it so another replica takes over without waiting for expiry.
   * `release: false` walks away like a crashed replica (tests of the expiry path).
   */
  async stop(options: { readonly release?: boolean } = {}): Promise<void> {
    const wasLeader = this.isLeader() && options.release !== false;
    this.#stop.abort();
    await this.#running;
    this.#opts.timers.clearTimeout(this.#loseTimer);
    this.#report();
    if (wasLeader && this.#lastLease !== undefined) {
      try {
        await this.#write({ kind: "update", resourceVersion: this.#lastLease.resourceVersion, spec: releaseSpec(this.#lastLease.spec, this.#opts.now()) });
        this.#opts.log.info({ identity: this.#opts.identity }, "leader lease released");
      } catch (err) {
        this.#opts.log.warn({ err }, "releasing the leader lease failed; it expires on its own");
      }
    }
  }

  get #path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.#opts.namespace)}/leases`;
  }

  async #read(): Promise<ObservedLease | undefined> {
    const res = await this.#opts.client.request("GET", `${this.#path}/${encodeURIComponent(this.#opts.leaseName)}`, { timeoutMs: this.#opts.timing.retryPeriodMs * 2 });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`reading lease: HTTP ${res.status}`);
    return toObserved(res.body);
  }

  async #write(step: { kind: "create"; spec: LeaseSpec } | { kind: "update"; spec: LeaseSpec; resourceVersion: string }): Promise<ObservedLease | undefined> {
    const body = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        name: this.#opts.leaseName,
        namespace: this.#opts.namespace,
        ...(step.kind === "update" ? { resourceVersion: step.resourceVersion } : {}),
      },
      spec: step.spec,
    };
    const timeoutMs = this.#opts.timing.retryPeriodMs * 2;
    const res =
      step.kind === "create"
        ? await this.#opts.client.request("POST", this.#path, { body, timeoutMs })
        : await this.#opts.client.request("PUT", `${this.#path}/${encodeURIComponent(this.#opts.leaseName)}`, { body, timeoutMs });
    // 409: another replica wrote first (optimistic concurrency); we simply lost this round.
    if (res.status === 409) return undefined;
    if (res.status < 200 || res.status >= 300) throw new Error(`writing lease: HTTP ${res.status}`);
    return toObserved(res.body);
  }

  async #tryOnce(): Promise<void> {
    const { timers, now, identity, timing } = this.#opts;
    const lease = await this.#read();
    this.#lastLease = lease;
    this.#state = observe(this.#state, lease, timers.now());
    const step = planStep(identity, this.#state, lease, now(), timing);
    if (step.kind === "wait") return;
    const attemptMs = timers.now();
    this.#state = attemptWrite(this.#state, step.spec);
    const written = await this.#write(step);
    if (written === undefined) return;
    this.#lastLease = written;
    this.#state = { ...recordWritten(observe(this.#state, written, timers.now()), written.spec), lastRenewMs: attemptMs };
  }

  async #loop(): Promise<void> {
    const { timers, timing, log } = this.#opts;
    while (!this.#stop.signal.aborted) {
      try {
        await this.#tryOnce();
      } catch (err) {
        log.debug({ err }, "leader lease attempt failed");
      }
      this.#report();
      await sleep(timers, timing.retryPeriodMs, this.#stop.signal);
    }
  }

  /** Notifies listeners on a change, and arms a timer so loss is reported when the deadline passes unrenewed. */
  #report(): void {
    const leader = this.isLeader();
    this.#opts.timers.clearTimeout(this.#loseTimer);
    if (leader && this.#state.lastRenewMs !== undefined) {
      const remaining = this.#state.lastRenewMs + this.#opts.timing.renewDeadlineMs - this.#opts.timers.now();
      this.#loseTimer = this.#opts.timers.setTimeout(() => { this.#report(); }, Math.max(1, remaining));
    }
    if (leader === this.#reported) return;
    this.#reported = leader;
    this.#opts.log.info({ identity: this.#opts.identity, leader }, leader ? "became leader" : "lost leadership");
    for (const l of this.#listeners) {
      try {
        l(leader);
      } catch (err) {
        this.#opts.log.error({ err }, "leadership listener failed");
      }
    }
  }
}

function toObserved(body: unknown): ObservedLease {
  const b = body as { metadata?: { resourceVersion?: string }; spec?: LeaseSpec } | undefined;
  return { spec: b?.spec ?? {}, resourceVersion: b?.metadata?.resourceVersion ?? "" };
}
