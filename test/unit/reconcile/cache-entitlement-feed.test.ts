// Entitlement versions: which cache changes move a pod's version, and long-poll waiters woken on change.
import { describe, expect, it } from "vitest";
import { CacheEntitlementFeed } from "../../../controller/src/reconcile/cache-entitlement-feed.ts";
import type { CachedClusterTokenPolicy, CachedTokenPolicy, SlimNamespace, SlimPod } from "../../../controller/src/reconcile/objects.ts";
import { Store } from "../../../controller/src/reconcile/store.ts";
import { ManualTimers } from "./manual-timers.ts";

let rv = 100;
const meta = (name: string, uid: string, extra: Record<string, unknown> = {}) => ({
  name,
  uid,
  resourceVersion: String(++rv),
  labels: {},
  annotations: {},
  ...extra,
});
const pod = (name: string, uid: string, ns: string, labels: Record<string, string> = {}, status = "Running"): SlimPod => ({
  metadata: meta(name, uid, { namespace: ns, labels }),
  serviceAccountName: "app",
  hostNetwork: false,
  containerNames: ["app"],
  initContainerNames: [],
  phase: status,
});
const namespace = (name: string, labels: Record<string, string> = {}): SlimNamespace => ({ kind: "Namespace", metadata: meta(name, `ns-${name}`, { labels }) });
const tokenPolicy = (ns: string, name: string, generation: number, revokeBefore?: string): CachedTokenPolicy =>
  ({
    apiVersion: "tessera.dev/v1alpha1",
    kind: "TokenPolicy",
    metadata: meta(name, `tp-${ns}-${name}`, { namespace: ns, generation }),
    spec: { owner: { team: "t" }, audiences: ["a"], subjects: { serviceAccounts: ["app"] }, ...(revokeBefore === undefined ? {} : { revokeBefore }) },
  });
const clusterPolicy = (name: string, generation: number): CachedClusterTokenPolicy =>
  ({ apiVersion: "tessera.dev/v1alpha1", kind: "ClusterTokenPolicy", metadata: meta(name, `ctp-${name}`, { generation }), spec: { owner: { team: "ops" } } });

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function setup(maxWaitersPerPod?: number) {
  const timers = new ManualTimers();
  const stores = {
    pods: new Store<SlimPod>(),
    namespaces: new Store<SlimNamespace>(),
    tokenPolicies: new Store<CachedTokenPolicy>(),
    clusterTokenPolicies: new Store<CachedClusterTokenPolicy>(),
  };
  stores.namespaces.upsert(namespace("team-a"));
  stores.namespaces.upsert(namespace("team-b"));
  stores.pods.upsert(pod("p1", "uid-1", "team-a"));
  stores.pods.upsert(pod("p2", "uid-2", "team-b"));
  stores.tokenPolicies.upsert(tokenPolicy("team-a", "pol", 1));
  const feed = new CacheEntitlementFeed({ ...stores, timers, debounceMs: 10, ...(maxWaitersPerPod === undefined ? {} : { maxWaitersPerPod }) });
  return { timers, stores, feed };
}

type Env = ReturnType<typeof setup>;

describe("entitlement version", () => {
  it.each<[string, (env: Env) => void, boolean]>([
    ["a pod label change moves it", ({ stores, feed }) => { const p = pod("p1", "uid-1", "team-a", { tier: "gold" }); stores.pods.upsert(p); feed.podChanged(p); }, true],
    ["a status-only pod update (same labels) leaves it", ({ stores, feed }) => { const p = pod("p1", "uid-1", "team-a", {}, "Pending"); stores.pods.upsert(p); feed.podChanged(p); }, false],
    ["a namespace label change moves it", ({ stores, feed }) => { stores.namespaces.upsert(namespace("team-a", { tenant: "x" })); feed.namespaceChanged("team-a"); }, true],
    ["a policy edit (new generation) in its namespace moves it", ({ stores, feed }) => { stores.tokenPolicies.upsert(tokenPolicy("team-a", "pol", 2)); feed.tokenPolicyChanged("team-a"); }, true],
    ["a revokeBefore set on its policy moves it", ({ stores, feed }) => { stores.tokenPolicies.upsert(tokenPolicy("team-a", "pol", 1, "2026-01-01T00:00:00Z")); feed.tokenPolicyChanged("team-a"); }, true],
    ["a policy status write (same generation) leaves it", ({ stores, feed }) => { stores.tokenPolicies.upsert(tokenPolicy("team-a", "pol", 1)); feed.tokenPolicyChanged("team-a"); }, false],
    ["a policy deleted in its namespace moves it", ({ stores, feed }) => { stores.tokenPolicies.delete("team-a/pol"); feed.tokenPolicyChanged("team-a"); }, true],
    ["a policy change in another namespace leaves it", ({ stores, feed }) => { stores.tokenPolicies.upsert(tokenPolicy("team-b", "other", 1)); feed.tokenPolicyChanged("team-b"); }, false],
    ["a cluster policy change moves it", ({ stores, feed }) => { stores.clusterTokenPolicies.upsert(clusterPolicy("base", 1)); feed.clusterPoliciesChanged(); }, true],
  ])("%s", (_name, change, moves) => {
    const env = setup();
    const before = env.feed.version("uid-1");
    change(env);
    expect(before).toBeDefined();
    expect(env.feed.version("uid-1") !== before).toBe(moves);
  });

  it("is undefined for an unknown pod", () => {
    expect(setup().feed.version("nope")).toBeUndefined();
  });
});

describe("waitForChange", () => {
  it("answers at once when the caller's version is stale or empty", async () => {
    const { feed } = setup();
    const v = feed.version("uid-1") ?? "";
    await expect(feed.waitForChange("uid-1", "", new AbortController().signal)).resolves.toEqual({ version: v, reason: "initial" });
    await expect(feed.waitForChange("uid-1", "old", new AbortController().signal)).resolves.toMatchObject({ version: v });
  });

  it("wakes a waiter after the debounce when its namespace's policy changes", async () => {
    const { feed, stores, timers } = setup();
    const since = feed.version("uid-1") ?? "";
    let result: unknown = "pending";
    void feed.waitForChange("uid-1", since, new AbortController().signal).then((r) => (result = r));
    await tick();
    stores.tokenPolicies.upsert(tokenPolicy("team-a", "pol", 2));
    feed.tokenPolicyChanged("team-a");
    await tick();
    expect(result).toBe("pending");
    timers.advance(10);
    await tick();
    expect(result).toEqual({ version: feed.version("uid-1"), reason: "policy-changed" });
    expect(feed.waiting).toBe(0);
  });

  it("does not wake a waiter in another namespace", async () => {
    const { feed, stores, timers } = setup();
    let result: unknown = "pending";
    void feed.waitForChange("uid-2", feed.version("uid-2") ?? "", new AbortController().signal).then((r) => (result = r));
    await tick();
    stores.tokenPolicies.upsert(tokenPolicy("team-a", "pol", 2));
    feed.tokenPolicyChanged("team-a");
    timers.advance(10);
    await tick();
    expect(result).toBe("pending");
    expect(feed.waiting).toBe(1);
  });

  it("wakes only the waiter of the pod whose labels changed", async () => {
    const { feed, stores, timers } = setup();
    const results: Record<string, unknown> = { "uid-1": "pending", "uid-2": "pending" };
    for (const uid of ["uid-1", "uid-2"]) {
      void feed.waitForChange(uid, feed.version(uid) ?? "", new AbortController().signal).then((r) => (results[uid] = r));
    }
    await tick();
    const relabelled = pod("p2", "uid-2", "team-b", { tier: "gold" });
    stores.pods.upsert(relabelled);
    feed.podChanged(relabelled);
    timers.advance(10);
    await tick();
    expect(results["uid-2"]).toMatchObject({ reason: "labels-changed" });
    expect(results["uid-1"]).toBe("pending");
  });

  it("tells the waiter its pod was deleted", async () => {
    const { feed, stores } = setup();
    const waiting = feed.waitForChange("uid-1", feed.version("uid-1") ?? "", new AbortController().signal);
    await tick();
    const gone = stores.pods.delete("team-a/p1");
    if (gone !== undefined) feed.podDeleted(gone);
    await expect(waiting).resolves.toEqual({ version: "", reason: "pod-deleted" });
  });

  it("answers a pod's oldest waiters with no change once it holds more than its cap, and leaves other pods alone", async () => {
    const { feed } = setup(2);
    const wait = (uid: string) => feed.waitForChange(uid, feed.version(uid) ?? "", new AbortController().signal);
    const other = wait("uid-2");
    const first = wait("uid-1");
    const second = wait("uid-1");
    await tick();
    expect(feed.waiting).toBe(3);
    const third = wait("uid-1");
    await expect(first).resolves.toBeUndefined();
    const fourth = wait("uid-1");
    await expect(second).resolves.toBeUndefined();
    expect(feed.waiting).toBe(3);
    // The newest two are still waiting, as is the other pod's.
    const settled: string[] = [];
    for (const [name, p] of [["third", third], ["fourth", fourth], ["other", other]] as const) void p.then(() => settled.push(name));
    await tick();
    expect(settled).toEqual([]);
    feed.close();
  });

  it("holds four waiters per pod by default", async () => {
    const { feed } = setup();
    const version = feed.version("uid-1") ?? "";
    const waits = Array.from({ length: 5 }, () => feed.waitForChange("uid-1", version, new AbortController().signal));
    await expect(waits[0]).resolves.toBeUndefined();
    expect(feed.waiting).toBe(4);
    feed.close();
  });

  it("resolves undefined when the caller aborts", async () => {
    const { feed } = setup();
    const ac = new AbortController();
    const waiting = feed.waitForChange("uid-1", feed.version("uid-1") ?? "", ac.signal);
    await tick();
    ac.abort();
    await expect(waiting).resolves.toBeUndefined();
    expect(feed.waiting).toBe(0);
  });

  it("reports a pod that never shows up in the cache as deleted", async () => {
    const { feed, timers } = setup();
    const waiting = feed.waitForChange("ghost", "", new AbortController().signal);
    for (let i = 0; i < 50; i++) {
      timers.advance(50);
      await tick();
    }
    await expect(waiting).resolves.toEqual({ version: "", reason: "pod-deleted" });
  });
});
