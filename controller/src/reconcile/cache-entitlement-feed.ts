// The re-issuance channel's source: per-pod entitlement versions from the caches, and long-poll waiters woken on change.
import { CHANGE_REASON_INITIAL, CHANGE_REASON_POD_DELETED, CHANGE_REASON_POLICY_CHANGED } from "../../../api/constants.ts";
import type { EntitlementChange, EntitlementChangeReason } from "../../../api/exchange.ts";
import {
  changeReason,
  labelsPart,
  podPart,
  policiesPart,
  versionOf,
  type EntitlementParts,
} from "./entitlement-version.ts";
import type { CachedClusterTokenPolicy, CachedTokenPolicy, SlimNamespace, SlimPod } from "./objects.ts";
import type { Store } from "./store.ts";
import type { Timers } from "./timers.ts";

export interface EntitlementFeedOptions {
  readonly pods: Store<SlimPod>;
  readonly namespaces: Store<SlimNamespace>;
  readonly tokenPolicies: Store<CachedTokenPolicy>;
  readonly clusterTokenPolicies: Store<CachedClusterTokenPolicy>;
  readonly timers: Timers;
  /** Changes are coalesced for this long before waiters are checked (small: the target is 2 s end to end). */
  readonly debounceMs?: number;
  /** How long an unknown pod may take to appear in the cache before it counts as deleted. */
  readonly unknownPodGraceMs?: number;
  readonly onWake?: (reason: EntitlementChangeReason) => void;
  /**
   * Long-polls one pod may hold open at once (default 4). A sidecar needs one; a few more cover a poll whose
   * connection died unseen. Beyond this the oldest is answered "no change" at once, so a pod cannot pile up open
   * requests, and the newest (the one a live sidecar is waiting on) is the one kept.
   */
  readonly maxWaitersPerPod?: number;
}

const DEFAULT_MAX_WAITERS_PER_POD = 4;

interface Waiter {
  readonly uid: string;
  readonly namespace: string;
  readonly since: string;
  readonly parts: EntitlementParts | undefined;
  readonly resolve: (change: EntitlementChange | undefined) => void;
}

function identities(policies: readonly (CachedTokenPolicy | CachedClusterTokenPolicy)[]) {
  return policies.map((p) => ({
    uid: p.metadata.uid,
    generation: p.metadata.generation ?? 0,
    ...(p.spec.revokeBefore === undefined ? {} : { revokeBefore: p.spec.revokeBefore }),
  }));
}

function addTo(index: Map<string, Set<Waiter>>, key: string, w: Waiter): void {
  let set = index.get(key);
  if (set === undefined) {
    set = new Set();
    index.set(key, set);
  }
  set.add(w);
}

function removeFrom(index: Map<string, Set<Waiter>>, key: string, w: Waiter): void {
  const set = index.get(key);
  set?.delete(w);
  if (set?.size === 0) index.delete(key);
}

/** Read through a call: the signal may abort while we await, which flow analysis cannot see. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

// Shaped as the issuer's EntitlementFeed port; the composition root hands it over, and the compiler checks it there.
export class CacheEntitlementFeed {
  readonly #opts: EntitlementFeedOptions;
  /** Lazily computed parts, invalidated by cache events; nothing is computed per pod until someone asks. */
  readonly #podParts = new Map<string, { readonly rv: string; readonly part: string }>();
  readonly #nsLabelParts = new Map<string, { readonly rv: string; readonly part: string }>();
  readonly #nsPolicyParts = new Map<string, string>();
  #clusterPart: string | undefined;
  readonly #waitersByNamespace = new Map<string, Set<Waiter>>();
  readonly #waitersByUid = new Map<string, Set<Waiter>>();
  readonly #dirtyNamespaces = new Set<string>();
  readonly #dirtyPods = new Set<string>();
  #clusterDirty = false;
  #flushTimer: unknown;

  constructor(opts: EntitlementFeedOptions) {
    this.#opts = opts;
  }

  /** Long-polls waiting right now (metrics, tests). */
  get waiting(): number {
    let n = 0;
    for (const set of this.#waitersByNamespace.values()) n += set.size;
    return n;
  }

  version(podUid: string): string | undefined {
    const parts = this.#parts(podUid);
    return parts === undefined ? undefined : versionOf(parts);
  }

  async waitForChange(podUid: string, since: string, signal: AbortSignal): Promise<EntitlementChange | undefined> {
    if (signal.aborted) return undefined;
    let pod = this.#opts.pods.getByUid(podUid);
    if (pod === undefined) {
      // The issuer verified a token bound to this pod, so it existed; give the cache a moment to see a new pod.
      pod = await this.#waitForPod(podUid, signal);
      if (isAborted(signal)) return undefined;
      if (pod === undefined) return { version: "", reason: CHANGE_REASON_POD_DELETED };
    }
    const parts = this.#parts(podUid);
    if (parts === undefined) return { version: "", reason: CHANGE_REASON_POD_DELETED };
    const current = versionOf(parts);
    if (current !== since) return { version: current, reason: since === "" ? CHANGE_REASON_INITIAL : CHANGE_REASON_POLICY_CHANGED };
    const namespace = pod.metadata.namespace ?? "";
    return await new Promise((resolve) => {
      const waiter: Waiter = {
        uid: podUid,
        namespace,
        since,
        parts,
        resolve: (change) => {
          this.#remove(waiter);
          signal.removeEventListener("abort", onAbort);
          resolve(change);
        },
      };
      const onAbort = (): void => {
        waiter.resolve(undefined);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#makeRoomFor(podUid);
      addTo(this.#waitersByNamespace, namespace, waiter);
      addTo(this.#waitersByUid, podUid, waiter);
    });
  }

  // ---- cache events (wired to the informers) ----

  podChanged(pod: SlimPod): void {
    this.#dirtyPods.add(pod.metadata.uid);
    this.#schedule();
  }

  podDeleted(pod: SlimPod): void {
    this.#podParts.delete(pod.metadata.uid);
    for (const w of [...(this.#waitersByUid.get(pod.metadata.uid) ?? [])]) w.resolve({ version: "", reason: CHANGE_REASON_POD_DELETED });
    this.#opts.onWake?.(CHANGE_REASON_POD_DELETED);
  }

  namespaceChanged(name: string): void {
    this.#dirtyNamespaces.add(name);
    this.#schedule();
  }

  tokenPolicyChanged(namespace: string): void {
    this.#nsPolicyParts.delete(namespace);
    this.#dirtyNamespaces.add(namespace);
    this.#schedule();
  }

  clusterPoliciesChanged(): void {
    this.#clusterPart = undefined;
    this.#clusterDirty = true;
    this.#schedule();
  }

  /** Resolves every waiter with undefined (shutdown: the sidecars re-poll another replica). */
  close(): void {
    for (const set of [...this.#waitersByNamespace.values()]) for (const w of [...set]) w.resolve(undefined);
    this.#opts.timers.clearTimeout(this.#flushTimer);
  }

  // ---- internals ----

  #parts(podUid: string): EntitlementParts | undefined {
    const pod = this.#opts.pods.getByUid(podUid);
    if (pod === undefined) return undefined;
    const namespace = pod.metadata.namespace ?? "";
    let podEntry = this.#podParts.get(podUid);
    if (podEntry?.rv !== pod.metadata.resourceVersion) {
      podEntry = {
        rv: pod.metadata.resourceVersion,
        part: podPart({
          uid: pod.metadata.uid,
          name: pod.metadata.name,
          namespace,
          serviceAccountName: pod.serviceAccountName,
          labels: pod.metadata.labels,
          annotations: pod.metadata.annotations,
          ...(pod.nodeName === undefined ? {} : { nodeName: pod.nodeName }),
          ...(pod.owner === undefined ? {} : { owner: pod.owner }),
        }),
      };
      this.#podParts.set(podUid, podEntry);
    }
    const ns = this.#opts.namespaces.get(namespace);
    const nsRv = ns?.metadata.resourceVersion ?? "";
    let nsEntry = this.#nsLabelParts.get(namespace);
    if (nsEntry?.rv !== nsRv) {
      nsEntry = { rv: nsRv, part: labelsPart(ns?.metadata.labels) };
      this.#nsLabelParts.set(namespace, nsEntry);
    }
    let nsPolicies = this.#nsPolicyParts.get(namespace);
    if (nsPolicies === undefined) {
      nsPolicies = policiesPart(identities(this.#opts.tokenPolicies.inNamespace(namespace)));
      this.#nsPolicyParts.set(namespace, nsPolicies);
    }
    this.#clusterPart ??= policiesPart(identities(this.#opts.clusterTokenPolicies.list()));
    return { pod: podEntry.part, namespace: nsEntry.part, namespacePolicies: nsPolicies, clusterPolicies: this.#clusterPart };
  }

  async #waitForPod(uid: string, signal: AbortSignal): Promise<SlimPod | undefined> {
    const deadline = this.#opts.timers.now() + (this.#opts.unknownPodGraceMs ?? 2_000);
    while (this.#opts.timers.now() < deadline && !signal.aborted) {
      await new Promise<void>((r) => this.#opts.timers.setTimeout(r, 50));
      const pod = this.#opts.pods.getByUid(uid);
      if (pod !== undefined) return pod;
    }
    return undefined;
  }

  /** Answers the pod's oldest waiters (a Set iterates in insertion order) until one more fits under the cap. */
  #makeRoomFor(podUid: string): void {
    const max = this.#opts.maxWaitersPerPod ?? DEFAULT_MAX_WAITERS_PER_POD;
    const held = this.#waitersByUid.get(podUid);
    while (held !== undefined && held.size >= max) {
      const oldest = held.values().next();
      if (oldest.done === true) break;
      oldest.value.resolve(undefined);
    }
  }

  #remove(w: Waiter): void {
    removeFrom(this.#waitersByNamespace, w.namespace, w);
    removeFrom(this.#waitersByUid, w.uid, w);
  }

  #schedule(): void {
    if (this.#flushTimer !== undefined) return;
    this.#flushTimer = this.#opts.timers.setTimeout(() => {
      this.#flushTimer = undefined;
      this.flush();
    }, this.#opts.debounceMs ?? 10);
  }

  /** Checks only the waiters the dirty scopes can affect (indexed by namespace and pod uid); never O(pods). */
  flush(): void {
    const candidates: Waiter[] = [];
    if (this.#clusterDirty) {
      for (const set of this.#waitersByNamespace.values()) candidates.push(...set);
    } else {
      for (const ns of this.#dirtyNamespaces) candidates.push(...(this.#waitersByNamespace.get(ns) ?? []));
      for (const uid of this.#dirtyPods) {
        for (const w of this.#waitersByUid.get(uid) ?? []) if (!this.#dirtyNamespaces.has(w.namespace)) candidates.push(w);
      }
    }
    this.#clusterDirty = false;
    this.#dirtyNamespaces.clear();
    this.#dirtyPods.clear();
    for (const w of candidates) {
      const parts = this.#parts(w.uid);
      if (parts === undefined) {
        w.resolve({ version: "", reason: CHANGE_REASON_POD_DELETED });
        this.#opts.onWake?.(CHANGE_REASON_POD_DELETED);
        continue;
      }
      const version = versionOf(parts);
      if (version !== w.since) {
        const reason = changeReason(w.parts, parts);
        w.resolve({ version, reason });
        this.#opts.onWake?.(reason);
      }
    }
  }
}
