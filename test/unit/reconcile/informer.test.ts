// Informer supervision with a scripted KubeClient: relist on 410, restart a stalled or failed watch, relist diffs as events.
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { SupervisedInformer, type InformerEvent, type InformerMetrics } from "../../../controller/src/reconcile/informer.ts";
import type { KubeClient, KubeResponse } from "../../../controller/src/kube/kube-http.ts";
import { slimNamespace, type SlimNamespace } from "../../../controller/src/reconcile/objects.ts";
import { ManualTimers } from "./manual-timers.ts";

/**
 * Everything a test waits for (client calls, informer events, watch restarts) calls notify(); until() re-checks then.
 * Time moves only through ManualTimers, so nothing here sleeps: a test that never sees its condition times out.
 */
class Observed {
  readonly #waiters: (() => void)[] = [];

  notify(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  async until(check: () => boolean): Promise<void> {
    while (!check()) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}

type WatchScript = (emit: (type: string, obj: unknown) => void, done: (err: unknown) => void) => void;

const ns = (name: string, rv: string, labels: Record<string, string> = {}) => ({ metadata: { name, uid: `uid-${name}`, resourceVersion: rv, labels } });

/** Answers LISTs from a queue of item lists and runs one script per WATCH; records every call. */
function scriptedClient(observed: Observed, lists: unknown[][], watches: WatchScript[]) {
  const calls: string[] = [];
  let listIndex = 0;
  let watchIndex = 0;
  const client: KubeClient = {
    request(_method, path): Promise<KubeResponse> {
      calls.push(`list ${path.split("?")[0] ?? ""}`);
      observed.notify();
      const items = lists[Math.min(listIndex++, lists.length - 1)] ?? [];
      return Promise.resolve({ status: 200, body: { items, metadata: { resourceVersion: String(100 + listIndex) } } });
    },
    watch(_path, query, onEvent, onDone) {
      calls.push(`watch rv=${query["resourceVersion"] ?? ""}`);
      observed.notify();
      const script = watches[watchIndex++];
      let aborted = false;
      // Delivered after watch() has returned, as a real stream's first bytes are.
      queueMicrotask(() => {
        if (script === undefined) return; // hangs forever (until aborted)
        script(
          (t, o) => {
            if (!aborted) onEvent(t, o);
          },
          (e) => {
            if (!aborted) onDone(e);
          },
        );
      });
      return Promise.resolve({
        abort: () => {
          aborted = true;
        },
      });
    },
  };
  return { client, calls };
}

let informer: SupervisedInformer<SlimNamespace> | undefined;
afterEach(async () => {
  await informer?.stop();
});

/** Backoff bounds of every informer here: advancing the clock by BACKOFF_MAX_MS always ends a restart's wait. */
const BACKOFF_MAX_MS = 20;

function start(observed: Observed, client: KubeClient, extra: { stallGraceMs?: number; resyncMs?: number } = {}) {
  const events: string[] = [];
  const restarts: string[] = [];
  const synced: boolean[] = [];
  const timers = new ManualTimers();
  const metrics: InformerMetrics = {
    watchRestart: (_resource, reason) => {
      restarts.push(reason);
      observed.notify();
    },
    cacheSize: () => undefined,
    synced: (_resource, done) => {
      synced.push(done);
    },
  };
  informer = new SupervisedInformer({
    resource: "namespaces",
    path: "/api/v1/namespaces",
    transform: slimNamespace,
    client,
    timers,
    random: () => 0.5,
    log: pino({ level: "silent" }),
    metrics,
    backoff: { initialMs: 5, maxMs: BACKOFF_MAX_MS },
    watchTimeoutSeconds: [0, 0],
    stallGraceMs: extra.stallGraceMs ?? 60_000,
    resyncMs: extra.resyncMs ?? 600_000,
  });
  informer.onEvent((e: InformerEvent<SlimNamespace>) => {
    events.push(`${e.type} ${e.object.metadata.name}`);
    observed.notify();
  });
  informer.start();
  return { informer, events, restarts, timers, synced };
}

const watchCount = (calls: readonly string[]): number => calls.filter((c) => c.startsWith("watch")).length;

describe("SupervisedInformer", () => {
  it("fills the cache from the list, reports synced and applies watch events", async () => {
    const observed = new Observed();
    const { client } = scriptedClient(observed, [[ns("a", "1")]], [(emit) => { emit("ADDED", ns("b", "2")); emit("DELETED", ns("a", "3")); }]);
    const { informer: inf, events, synced } = start(observed, client);
    await observed.until(() => events.length === 3);
    expect(inf.hasSynced()).toBe(true);
    expect(synced).toEqual([false, true]);
    expect(events).toEqual(["added a", "added b", "deleted a"]);
    expect(inf.store.keys()).toEqual(["b"]);
  });

  it("relists after 410 Gone and delivers what changed meanwhile as events, nothing for unchanged objects", async () => {
    const observed = new Observed();
    const { client, calls } = scriptedClient(
      observed,
      [[ns("a", "1"), ns("b", "1")], [ns("a", "1"), ns("c", "5")]],
      [(emit) => { emit("ERROR", { kind: "Status", code: 410 }); }],
    );
    const { events } = start(observed, client);
    await observed.until(() => events.length === 4);
    expect(events).toEqual(["added a", "added b", "added c", "deleted b"]);
    expect(calls.filter((c) => c.startsWith("list"))).toHaveLength(2);
  });

  it("restarts a watch that ends with an error from the last resourceVersion it saw", async () => {
    const observed = new Observed();
    const { client, calls } = scriptedClient(observed, [[ns("a", "1")]], [(emit, done) => { emit("MODIFIED", ns("a", "7", { x: "y" })); done(new Error("connection reset")); }]);
    const { informer: inf, events, restarts, timers } = start(observed, client);
    // The restart waits out its backoff on the injected clock: only advancing it lets the second watch start.
    await observed.until(() => restarts.length === 1);
    expect(watchCount(calls)).toBe(1);
    timers.advance(BACKOFF_MAX_MS);
    await observed.until(() => watchCount(calls) === 2);
    expect(events).toEqual(["added a", "modified a"]);
    expect(calls.at(-1)).toBe("watch rv=7");
    expect(inf.restarts).toBeGreaterThan(0);
  });

  it("restarts a watch that goes silent (no event, no bookmark) past the stall window", async () => {
    const observed = new Observed();
    const { client, calls } = scriptedClient(observed, [[ns("a", "1")]], []);
    const { informer: inf, restarts, timers } = start(observed, client, { stallGraceMs: 20 });
    await observed.until(() => watchCount(calls) === 1);
    // The stall window (20 ms) passes on the injected clock only.
    timers.advance(20);
    await observed.until(() => restarts.length === 1);
    timers.advance(BACKOFF_MAX_MS);
    await observed.until(() => watchCount(calls) >= 2);
    expect(restarts).toEqual(["stalled"]);
    expect(inf.restarts).toBeGreaterThan(0);
  });

  it("moves its resourceVersion forward on bookmarks without emitting events", async () => {
    const observed = new Observed();
    const { client, calls } = scriptedClient(observed, [[ns("a", "1")]], [(emit, done) => { emit("BOOKMARK", { metadata: { resourceVersion: "42" } }); done(null); }]);
    const { events } = start(observed, client);
    await observed.until(() => watchCount(calls) === 2);
    expect(calls.at(-1)).toBe("watch rv=42");
    expect(events).toEqual(["added a"]);
  });
});
