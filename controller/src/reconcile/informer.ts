// A supervised list+watch loop: relists on 410 Gone, restarts errored or stalled watches with backoff, resyncs periodically.
import type { Logger } from "pino";
import { backoffDelay, type BackoffOptions } from "./backoff.ts";
import { expectOk, type KubeClient, type WatchHandle } from "../kube/kube-http.ts";
import { objectKey, type CachedObject } from "./objects.ts";
import { Store } from "./store.ts";
import { sleep, type Timers } from "./timers.ts";

export type InformerEventType = "added" | "modified" | "deleted";

export interface InformerEvent<T> {
  readonly type: InformerEventType;
  readonly object: T;
  /** The cached object before a modification. */
  readonly old?: T;
}

export interface InformerMetrics {
  watchRestart(resource: string, reason: "error" | "stalled" | "gone" | "closed"): void;
  cacheSize(resource: string, size: number): void;
  /** False from start until the first list has filled the cache, then true for good (relists keep the cache). */
  synced(resource: string, synced: boolean): void;
}

export interface InformerOptions<T extends CachedObject> {
  /** Metric label and log field, e.g. "pods". */
  readonly resource: string;
  /** Collection path, e.g. /api/v1/pods or /apis/tessera.dev/v1alpha1/tokenpolicies. */
  readonly path: string;
  /** Reduces a raw object to what the cache keeps; undefined drops it. */
  readonly transform: (raw: unknown) => T | undefined;
  readonly client: KubeClient;
  readonly timers: Timers;
  readonly random: () => number;
  readonly log: Logger;
  readonly metrics?: InformerMetrics;
  /** Restart backoff after errors; reset once a watch delivers events. */
  readonly backoff?: BackoffOptions;
  /** Full relist period; diffs are delivered as events, so anything a watch missed is caught. */
  readonly resyncMs?: number;
  /** Server-side watch timeout range in seconds (randomized to spread reconnects). */
  readonly watchTimeoutSeconds?: readonly [number, number];
  /** Extra silence after the server timeout before a watch counts as stalled. */
  readonly stallGraceMs?: number;
  /** Page size of LIST requests. */
  readonly pageSize?: number;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 8_000 };

export class SupervisedInformer<T extends CachedObject> {
  readonly store = new Store<T>();
  readonly #opts: InformerOptions<T>;
  readonly #handlers: ((event: InformerEvent<T>) => void)[] = [];
  readonly #resyncHandlers: (() => void)[] = [];
  readonly #stop = new AbortController();
  #synced = false;
  #running: Promise<void> | undefined;
  #restarts = 0;

  constructor(opts: InformerOptions<T>) {
    this.#opts = opts;
  }

  get resource(): string {
    return this.#opts.resource;
  }

  /** Registers a handler for cache changes (added/modified/deleted, including relist diffs). */
  onEvent(handler: (event: InformerEvent<T>) => void): void {
    this.#handlers.push(handler);
  }

  /** Registers a handler called after every periodic relist, for level-based re-enqueueing. */
  onResync(handler: () => void): void {
    this.#resyncHandlers.push(handler);
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** Watch restarts so far (tests and logs). */
  get restarts(): number {
    return this.#restarts;
  }

  start(): void {
    if (this.#running === undefined && !this.#synced) this.#opts.metrics?.synced(this.#opts.resource, false);
    this.#running ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  /** Resolves once the first list has filled the cache, or when stopped. */
  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    while (!this.#synced && !this.#stop.signal.aborted && signal?.aborted !== true) {
      await sleep(this.#opts.timers, 50, signal);
    }
    return this.#synced;
  }

  #emit(event: InformerEvent<T>): void {
    for (const h of this.#handlers) {
      try {
        h(event);
      } catch (err) {
        this.#opts.log.error({ err, resource: this.#opts.resource }, "informer handler failed");
      }
    }
  }

  async #list(): Promise<string> {
    const { client, path, transform } = this.#opts;
    const seen = new Set<string>();
    let cont: string | undefined;
    let resourceVersion: string;
    do {
      const query = new URLSearchParams({ limit: String(this.#opts.pageSize ?? 500) });
      if (cont !== undefined) query.set("continue", cont);
      const body = expectOk(await client.request("GET", `${path}?${query.toString()}`), `list ${this.#opts.resource}`) as {
        items?: unknown[];
        metadata?: { resourceVersion?: string; continue?: string };
      };
      for (const raw of body.items ?? []) {
        const obj = transform(raw);
        if (obj === undefined) continue;
        seen.add(objectKey(obj.metadata));
        this.#apply(obj);
      }
      resourceVersion = body.metadata?.resourceVersion ?? "";
      cont = body.metadata?.continue === "" ? undefined : body.metadata?.continue;
    } while (cont !== undefined);
    for (const key of this.store.keys()) {
      if (!seen.has(key)) {
        const old = this.store.delete(key);
        if (old !== undefined) this.#emit({ type: "deleted", object: old });
      }
    }
    this.#opts.metrics?.cacheSize(this.#opts.resource, this.store.size);
    return resourceVersion;
  }

  /** Upserts and emits only when something changed (same resourceVersion = no event, so relists cause no storms). */
  #apply(obj: T): void {
    const old = this.store.upsert(obj);
    if (old === undefined) this.#emit({ type: "added", object: obj });
    else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.#emit({ type: "modified", object: obj, old });
  }

  async #run(): Promise<void> {
    const { timers, random, log } = this.#opts;
    const signal = this.#stop.signal;
    const backoff = this.#opts.backoff ?? DEFAULT_BACKOFF;
    let attempt = 0;
    let resourceVersion: string | undefined;
    let nextResync = timers.now() + (this.#opts.resyncMs ?? 600_000);
    while (!signal.aborted) {
      try {
        if (resourceVersion === undefined || timers.now() >= nextResync) {
          const periodic = resourceVersion !== undefined;
          resourceVersion = await this.#list();
          nextResync = timers.now() + (this.#opts.resyncMs ?? 600_000);
          if (!this.#synced) {
            log.info({ resource: this.#opts.resource, size: this.store.size }, "informer synced");
            this.#opts.metrics?.synced(this.#opts.resource, true);
          }
          this.#synced = true;
          if (periodic) for (const h of this.#resyncHandlers) h();
        }
        const outcome = await this.#watchOnce(resourceVersion, nextResync, (rv) => {
          resourceVersion = rv;
          attempt = 0;
        });
        if (outcome === "gone") {
          resourceVersion = undefined;
          this.#restart("gone");
          continue;
        }
        if (outcome === "closed" || outcome === "resync" || outcome === "stopped") {
          if (outcome === "closed") this.#restart("closed");
          continue;
        }
        this.#restart(outcome);
        await sleep(timers, backoffDelay(attempt++, backoff, random), signal);
      } catch (err) {
        log.warn({ err, resource: this.#opts.resource, attempt }, "list failed; retrying");
        this.#restart("error");
        resourceVersion = undefined;
        await sleep(timers, backoffDelay(attempt++, backoff, random), signal);
      }
    }
  }

  #restart(reason: "error" | "stalled" | "gone" | "closed"): void {
    if (this.#stop.signal.aborted) return;
    this.#restarts++;
    this.#opts.metrics?.watchRestart(this.#opts.resource, reason);
    this.#opts.log.debug({ resource: this.#opts.resource, reason }, "watch restarting");
  }

  /** One watch from `resourceVersion`; resolves with why it ended. */
  #watchOnce(
    resourceVersion: string,
    resyncAt: number,
    progressed: (rv: string) => void,
  ): Promise<"gone" | "error" | "stalled" | "closed" | "resync" | "stopped"> {
    const { client, timers, random, transform, log } = this.#opts;
    const [lo, hi] = this.#opts.watchTimeoutSeconds ?? [240, 480];
    const timeoutSeconds = Math.round(lo + random() * (hi - lo));
    const stallMs = Math.min(timeoutSeconds * 1000 + (this.#opts.stallGraceMs ?? 30_000), Math.max(1, resyncAt - timers.now()));
    return new Promise((resolve) => {
      let handle: WatchHandle | undefined;
      let finished = false;
      let stallTimer: unknown;
      let gotEvent = false;
      const finish = (why: "gone" | "error" | "stalled" | "closed" | "resync" | "stopped"): void => {
        if (finished) return;
        finished = true;
        timers.clearTimeout(stallTimer);
        this.#stop.signal.removeEventListener("abort", onAbort);
        handle?.abort();
        resolve(why);
      };
      const armStall = (): void => {
        timers.clearTimeout(stallTimer);
        // The timer fires either because nothing arrived (stalled) or the resync time came.
        stallTimer = timers.setTimeout(() => {
          finish(timers.now() >= resyncAt ? "resync" : "stalled");
        }, stallMs);
      };
      const onAbort = (): void => {
        finish("stopped");
      };
      this.#stop.signal.addEventListener("abort", onAbort, { once: true });
      armStall();
      const query = {
        resourceVersion,
        allowWatchBookmarks: "true",
        timeoutSeconds: String(timeoutSeconds),
      };
      client
        .watch(
          this.#opts.path,
          query,
          (type, raw) => {
            if (finished) return;
            gotEvent = true;
            armStall();
            if (type === "ERROR") {
              const code = (raw as { code?: number } | undefined)?.code;
              finish(code === 410 ? "gone" : "error");
              return;
            }
            const rv = (raw as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
            if (type === "BOOKMARK") {
              if (rv !== undefined) progressed(rv);
              return;
            }
            const obj = transform(raw);
            if (obj === undefined) return;
            if (type === "DELETED") {
              const old = this.store.delete(objectKey(obj.metadata));
              this.#emit({ type: "deleted", object: old ?? obj });
            } else {
              this.#apply(obj);
            }
            this.#opts.metrics?.cacheSize(this.#opts.resource, this.store.size);
            progressed(obj.metadata.resourceVersion);
          },
          (err: unknown) => {
            if (finished) return;
            const status = (err as { statusCode?: number } | null)?.statusCode;
            if (status === 410) finish("gone");
            // A clean close after progress is the server's timeout; without any event it counts as an error (backoff).
            else if ((err === null || err === undefined) && gotEvent) finish("closed");
            else {
              log.debug({ err, resource: this.#opts.resource }, "watch ended with an error");
              finish("error");
            }
          },
        )
        .then((h) => {
          handle = h;
          if (finished) h.abort();
        })
        .catch(() => {
          finish("error");
        });
    });
  }
}
