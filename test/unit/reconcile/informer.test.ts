// Informer supervision with a scripted KubeClient: relist on 410, restart a stalled or failed watch, relist diffs as events.
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { SupervisedInformer, type InformerEvent } from "../../../controller/src/reconcile/informer.ts";
import type { KubeClient, KubeResponse } from "../../../controller/src/kube/kube-http.ts";
import { slimNamespace, type SlimNamespace } from "../../../controller/src/reconcile/objects.ts";
import { realTimers } from "../../../controller/src/reconcile/timers.ts";

type WatchScript = (emit: (type: string, obj: unknown) => void, done: (err: unknown) => void) => void;

const ns = (name: string, rv: string, labels: Record<string, string> = {}) => ({ metadata: { name, uid: `uid-${name}`, resourceVersion: rv, labels } });

/** Answers LISTs from a queue of item lists and runs one script per WATCH; records every call. */
function scriptedClient(lists: unknown[][], watches: WatchScript[]) {
  const calls: string[] = [];
  let listIndex = 0;
  let watchIndex = 0;
  const client: KubeClient = {
    request(_method, path): Promise<KubeResponse> {
      calls.push(`list ${path.split("?")[0] ?? ""}`);
      const items = lists[Math.min(listIndex++, lists.length - 1)] ?? [];
      return Promise.resolve({ status: 200, body: { items, metadata: { resourceVersion: String(100 + listIndex) } } });
    },
    watch(_path, query, onEvent, onDone) {
      calls.push(`watch rv=${query["resourceVersion"] ?? ""}`);
      const script = watches[watchIndex++];
      let aborted = false;
      setTimeout(() => {
        if (script === undefined) return; // hangs forever (until aborted)
        script(
          (t, o) => {
            if (!aborted) onEvent(t, o);
          },
          (e) => {
            if (!aborted) onDone(e);
          },
        );
      }, 1);
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

function start(client: KubeClient, extra: { stallGraceMs?: number; resyncMs?: number } = {}) {
  const events: string[] = [];
  informer = new SupervisedInformer({
    resource: "namespaces",
    path: "/api/v1/namespaces",
    transform: slimNamespace,
    client,
    timers: realTimers,
    random: () => 0.5,
    log: pino({ level: "silent" }),
    backoff: { initialMs: 5, maxMs: 20 },
    watchTimeoutSeconds: [0, 0],
    stallGraceMs: extra.stallGraceMs ?? 60_000,
    resyncMs: extra.resyncMs ?? 600_000,
  });
  informer.onEvent((e: InformerEvent<SlimNamespace>) => events.push(`${e.type} ${e.object.metadata.name}`));
  informer.start();
  return { informer, events };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

describe("SupervisedInformer", () => {
  it("fills the cache from the list, reports synced and applies watch events", async () => {
    const { client } = scriptedClient([[ns("a", "1")]], [(emit) => { emit("ADDED", ns("b", "2")); emit("DELETED", ns("a", "3")); }]);
    const { informer: inf, events } = start(client);
    await until(() => events.length === 3);
    expect(inf.hasSynced()).toBe(true);
    expect(events).toEqual(["added a", "added b", "deleted a"]);
    expect(inf.store.keys()).toEqual(["b"]);
  });

  it("relists after 410 Gone and delivers what changed meanwhile as events, nothing for unchanged objects", async () => {
    const { client, calls } = scriptedClient(
      [[ns("a", "1"), ns("b", "1")], [ns("a", "1"), ns("c", "5")]],
      [(emit) => { emit("ERROR", { kind: "Status", code: 410 }); }],
    );
    const { events } = start(client);
    await until(() => events.length === 4);
    expect(events).toEqual(["added a", "added b", "added c", "deleted b"]);
    expect(calls.filter((c) => c.startsWith("list"))).toHaveLength(2);
  });

  it("restarts a watch that ends with an error from the last resourceVersion it saw", async () => {
    const { client, calls } = scriptedClient([[ns("a", "1")]], [(emit, done) => { emit("MODIFIED", ns("a", "7", { x: "y" })); done(new Error("connection reset")); }]);
    const { informer: inf, events } = start(client);
    await until(() => calls.filter((c) => c.startsWith("watch")).length === 2);
    expect(events).toEqual(["added a", "modified a"]);
    expect(calls.at(-1)).toBe("watch rv=7");
    expect(inf.restarts).toBeGreaterThan(0);
  });

  it("restarts a watch that goes silent (no event, no bookmark) past the stall window", async () => {
    const { client, calls } = scriptedClient([[ns("a", "1")]], []);
    const { informer: inf } = start(client, { stallGraceMs: 20 });
    await until(() => calls.filter((c) => c.startsWith("watch")).length >= 2);
    expect(inf.restarts).toBeGreaterThan(0);
  });

  it("moves its resourceVersion forward on bookmarks without emitting events", async () => {
    const { client, calls } = scriptedClient([[ns("a", "1")]], [(emit, done) => { emit("BOOKMARK", { metadata: { resourceVersion: "42" } }); done(null); }]);
    const { events } = start(client);
    await until(() => calls.filter((c) => c.startsWith("watch")).length === 2);
    expect(calls.at(-1)).toBe("watch rv=42");
    expect(events).toEqual(["added a"]);
  });
});
