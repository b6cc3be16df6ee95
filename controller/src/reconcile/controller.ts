// The controller's reconcile side assembled: informers -> caches -> policy set, feed, queues and reconcilers, under the leader lease.
import type { EntitlementChangeReason } from "../../../api/exchange.ts";
import type { Logger } from "pino";
import {
  API_GROUP_VERSION,
  INJECT_ENABLED,
  LABEL_INJECT,
  LEADER_LEASE_NAME,
  RESOURCE_CLUSTER_TOKEN_POLICIES,
  RESOURCE_TOKEN_AUDIENCES,
  RESOURCE_TOKEN_POLICIES,
  SECRET_WEBHOOK_TLS,
} from "../../../api/constants.ts";
import type { BackoffOptions } from "./backoff.ts";
import type { PolicyEngine } from "./policy-engine.ts";
import { CacheEntitlementFeed } from "./cache-entitlement-feed.ts";
import { EventRecorder } from "./event-recorder.ts";
import type { Caches } from "./gather.ts";
import { SupervisedInformer, type InformerEvent } from "./informer.ts";
import { IssuanceTracker } from "./issuance-tracker.ts";
import { AuditTracker } from "./audit-tracker.ts";
import { IssuerCaPublisher } from "./issuer-ca-publisher.ts";
import type { KubeClient } from "../kube/kube-http.ts";
import { LeaderElector } from "./leader.ts";
import type { LeaderTiming } from "./leader-state.ts";
import type { ControllerMetrics } from "./metrics.ts";
import {
  cachedPolicy,
  cachedSecret,
  objectKey,
  slimNamespace,
  slimPodTransform,
  type CachedClusterTokenPolicy,
  type CachedObject,
  type CachedSecret,
  type CachedTokenAudience,
  type CachedTokenPolicy,
  type SlimNamespace,
  type SlimPod,
} from "./objects.ts";
import { AudienceReconciler } from "./audience-reconciler.ts";
import { PolicyReconciler } from "./policy-reconciler.ts";
import { LivePolicySet } from "./live-policy-set.ts";
import type { Timers } from "./timers.ts";
import { runWorkers, type ReconcileResult } from "./worker.ts";
import { WorkQueue } from "./work-queue.ts";

export interface ControllerCoreOptions<TC, TS> {
  readonly client: KubeClient;
  /** Tessera's own namespace: the Lease, its Secrets, Events about cluster-scoped policies. */
  readonly namespace: string;
  /** This replica's identity in the Lease (pod name). */
  readonly identity: string;
  readonly engine: PolicyEngine<TC, TS>;
  readonly leaderTiming: LeaderTiming;
  readonly leaseName?: string;
  readonly timers: Timers;
  readonly now: () => Date;
  readonly random: () => number;
  readonly log: Logger;
  readonly metrics?: ControllerMetrics;
  readonly informer?: {
    readonly resyncMs?: number;
    readonly backoff?: BackoffOptions;
    readonly watchTimeoutSeconds?: readonly [number, number];
    readonly stallGraceMs?: number;
  };
  /** Debounce of the entitlement feed (ms). */
  readonly feedDebounceMs?: number;
  /** Long-polls one pod may hold open on the entitlement feed (its default when absent). */
  readonly maxWaitersPerPod?: number;
  /** Delay that batches cluster-policy recounts caused by pod churn. */
  readonly clusterRecountDelayMs?: number;
  /** Field manager of status writes (managedFields shows who wrote). */
  readonly fieldManager?: string;
  /** Publish the issuer CA bundle as this ConfigMap in every namespace that needs it; absent turns publishing off. */
  readonly issuerCaConfigMap?: string;
}

function generationChanged<T extends CachedObject>(e: InformerEvent<T>): boolean {
  return e.type !== "modified" || e.old?.metadata.generation !== e.object.metadata.generation;
}

export class ControllerCore<TC, TS> {
  readonly tokenPolicies: SupervisedInformer<CachedTokenPolicy>;
  readonly clusterTokenPolicies: SupervisedInformer<CachedClusterTokenPolicy>;
  readonly tokenAudiences: SupervisedInformer<CachedTokenAudience>;
  readonly pods: SupervisedInformer<SlimPod>;
  readonly namespaces: SupervisedInformer<SlimNamespace>;
  readonly secrets: SupervisedInformer<CachedSecret>;
  readonly caches: Caches;
  readonly policySet: LivePolicySet<TC, TS>;
  readonly tracker = new IssuanceTracker();
  /** What audited rules would have changed, fed by the issuer's decisions, read into status.audit. */
  readonly audits: AuditTracker;
  readonly feed: CacheEntitlementFeed;
  readonly leader: LeaderElector;
  readonly events: EventRecorder;
  readonly #tpQueue: WorkQueue;
  readonly #ctpQueue: WorkQueue;
  readonly #taQueue: WorkQueue;
  /** Keyed by namespace name; only when the issuer CA is published. */
  readonly #caQueue: WorkQueue | undefined;
  readonly #opts: ControllerCoreOptions<TC, TS>;
  #workers: Promise<void>[] = [];

  constructor(opts: ControllerCoreOptions<TC, TS>) {
    this.#opts = opts;
    const { client, timers, random, log, metrics } = opts;
    this.audits = new AuditTracker({ timers });
    const common = {
      client,
      timers,
      random,
      log,
      ...(metrics === undefined ? {} : { metrics: metrics.informer }),
      ...(opts.informer?.resyncMs === undefined ? {} : { resyncMs: opts.informer.resyncMs }),
      ...(opts.informer?.backoff === undefined ? {} : { backoff: opts.informer.backoff }),
      ...(opts.informer?.watchTimeoutSeconds === undefined ? {} : { watchTimeoutSeconds: opts.informer.watchTimeoutSeconds }),
      ...(opts.informer?.stallGraceMs === undefined ? {} : { stallGraceMs: opts.informer.stallGraceMs }),
    };
    const tpTransform = cachedPolicy<CachedTokenPolicy>("TokenPolicy");
    const ctpTransform = cachedPolicy<CachedClusterTokenPolicy>("ClusterTokenPolicy");
    this.tokenPolicies = new SupervisedInformer({ ...common, resource: RESOURCE_TOKEN_POLICIES, path: `/apis/${API_GROUP_VERSION}/${RESOURCE_TOKEN_POLICIES}`, transform: tpTransform });
    this.clusterTokenPolicies = new SupervisedInformer({
      ...common,
      resource: RESOURCE_CLUSTER_TOKEN_POLICIES,
      path: `/apis/${API_GROUP_VERSION}/${RESOURCE_CLUSTER_TOKEN_POLICIES}`,
      transform: ctpTransform,
    });
    this.tokenAudiences = new SupervisedInformer({
      ...common,
      resource: RESOURCE_TOKEN_AUDIENCES,
      path: `/apis/${API_GROUP_VERSION}/${RESOURCE_TOKEN_AUDIENCES}`,
      transform: cachedPolicy<CachedTokenAudience>("TokenAudience"),
    });
    this.pods = new SupervisedInformer({ ...common, resource: "pods", path: "/api/v1/pods", transform: slimPodTransform() });
    this.namespaces = new SupervisedInformer({ ...common, resource: "namespaces", path: "/api/v1/namespaces", transform: slimNamespace });
    this.secrets = new SupervisedInformer({
      ...common,
      resource: "secrets",
      path: `/api/v1/namespaces/${encodeURIComponent(opts.namespace)}/secrets`,
      transform: cachedSecret,
    });
    this.caches = {
      pods: this.pods.store,
      namespaces: this.namespaces.store,
      tokenPolicies: this.tokenPolicies.store,
      clusterTokenPolicies: this.clusterTokenPolicies.store,
      tokenAudiences: this.tokenAudiences.store,
    };
    this.policySet = new LivePolicySet(opts.engine, log.child({ component: "policy-set" }));
    this.feed = new CacheEntitlementFeed({
      ...this.caches,
      timers,
      debounceMs: opts.feedDebounceMs ?? 10,
      ...(opts.maxWaitersPerPod === undefined ? {} : { maxWaitersPerPod: opts.maxWaitersPerPod }),
      ...(metrics === undefined ? {} : { onWake: (reason: EntitlementChangeReason) => { metrics.entitlementWake(reason); } }),
    });
    this.leader = new LeaderElector({
      client,
      namespace: opts.namespace,
      leaseName: opts.leaseName ?? LEADER_LEASE_NAME,
      identity: opts.identity,
      timing: opts.leaderTiming,
      timers,
      now: opts.now,
      log: log.child({ component: "leader" }),
    });
    this.events = new EventRecorder({ client, leadership: this.leader, defaultNamespace: opts.namespace, component: "tessera-controller", now: opts.now, log });
    const queueOpts = (name: string) => ({ timers, ...(metrics === undefined ? {} : { metrics: metrics.queue(name) }) });
    this.#tpQueue = new WorkQueue(queueOpts("tokenpolicy"));
    this.#ctpQueue = new WorkQueue(queueOpts("clustertokenpolicy"));
    this.#taQueue = new WorkQueue(queueOpts("tokenaudience"));
    this.#caQueue = opts.issuerCaConfigMap === undefined ? undefined : new WorkQueue(queueOpts("issuerca"));
    this.#wire();
  }

  /** True once every informer has listed at least once. */
  hasSynced(): boolean {
    return this.#informers().every((i) => i.hasSynced());
  }

  #informers() {
    return [this.tokenPolicies, this.clusterTokenPolicies, this.tokenAudiences, this.pods, this.namespaces, this.secrets] as const;
  }

  #enqueueAllAudiences(): void {
    for (const key of this.caches.tokenAudiences.keys()) this.#taQueue.add(key);
  }

  #enqueueAllTokenPolicies(): void {
    for (const key of this.caches.tokenPolicies.keys()) this.#tpQueue.add(key);
  }

  #enqueueAllClusterPolicies(delayMs = 0): void {
    for (const key of this.caches.clusterTokenPolicies.keys()) this.#ctpQueue.addAfter(key, delayMs);
  }

  #enqueueNamespace(ns: string): void {
    for (const p of this.caches.tokenPolicies.inNamespace(ns)) this.#tpQueue.add(objectKey(p.metadata));
  }

  #enqueueAllNamespacesForCa(): void {
    if (this.#caQueue === undefined) return;
    for (const key of this.caches.namespaces.keys()) this.#caQueue.add(key);
  }

  /**
   * The issuer CA publisher reads the ConfigMap on reconcile instead of watching ConfigMaps: a cluster-wide
   * ConfigMap informer would cache every ConfigMap of every namespace (often the largest objects in a cluster) to
   * follow one name in a few namespaces, and would need list/watch on all of them. A GET per namespace that needs
   * the bundle, on a trigger (namespace or opted-in pod change, CA rotation, leadership) or on the namespaces
   * informer's resync (which also re-creates a deleted copy), costs far less at 10,000 pods.
   */
  #wireIssuerCa(): void {
    const queue = this.#caQueue;
    const name = this.#opts.issuerCaConfigMap;
    if (queue === undefined || name === undefined) return;
    const optedIn = (p: SlimPod | undefined): boolean => p?.metadata.labels[LABEL_INJECT] === INJECT_ENABLED;
    this.namespaces.onEvent((e) => { queue.add(e.object.metadata.name); });
    this.namespaces.onResync(() => { this.#enqueueAllNamespacesForCa(); });
    // Only opted-in pods can make a namespace need the bundle; other pod churn costs nothing here.
    this.pods.onEvent((e) => {
      if (optedIn(e.object) || optedIn(e.old)) queue.add(e.object.metadata.namespace ?? "");
    });
    // CA rotation: the serving Secret's bundle changed, every published copy follows.
    this.secrets.onEvent((e) => {
      if (e.object.metadata.name === SECRET_WEBHOOK_TLS) this.#enqueueAllNamespacesForCa();
    });
    this.leader.onLeadershipChange((isLeader) => {
      if (isLeader) this.#enqueueAllNamespacesForCa();
    });
    const publisher = new IssuerCaPublisher({
      client: this.#opts.client,
      caches: this.caches,
      secrets: this.secrets.store,
      tesseraNamespace: this.#opts.namespace,
      configMapName: name,
      leadership: this.leader,
      events: this.events,
      log: this.#opts.log.child({ controller: "issuerca" }),
      fieldManager: this.#opts.fieldManager ?? "tessera-controller",
      ...(this.#opts.metrics === undefined ? {} : { metrics: this.#opts.metrics.issuerCa }),
    });
    this.#caReconcile = (k) => publisher.reconcile(k);
  }

  #caReconcile: ((key: string) => Promise<ReconcileResult | undefined>) | undefined;

  /**
   * Set once every informer has synced. Before that nothing decides with the set (readiness waits for the sync), and
   * rebuilding it on each of 1,000 policies' list events cost O(policies²) at start-up: start() builds it once.
   */
  #synced = false;

  #rebuildPolicySet(): void {
    if (!this.#synced) return;
    this.policySet.rebuild([
      ...this.caches.tokenPolicies.list(),
      ...this.caches.clusterTokenPolicies.list(),
      ...this.caches.tokenAudiences.list(),
    ]);
  }

  #wire(): void {
    const { log, metrics } = this.#opts;
    const recount = this.#opts.clusterRecountDelayMs ?? 1_000;
    // Order matters: the policy set is rebuilt before the feed can wake a sidecar, so its re-exchange sees the new set.
    this.tokenPolicies.onEvent((e) => {
      const ns = e.object.metadata.namespace ?? "";
      if (generationChanged(e)) {
        this.#rebuildPolicySet();
        this.feed.tokenPolicyChanged(ns);
        this.#enqueueNamespace(ns);
      }
      this.#tpQueue.add(objectKey(e.object.metadata));
    });
    this.clusterTokenPolicies.onEvent((e) => {
      if (generationChanged(e)) {
        this.#rebuildPolicySet();
        this.feed.clusterPoliciesChanged();
        this.#enqueueAllClusterPolicies();
        this.#enqueueAllTokenPolicies();
        // Ownership rules live here: every contract's standing may have changed.
        this.#enqueueAllAudiences();
      }
      this.#ctpQueue.add(objectKey(e.object.metadata));
    });
    this.tokenAudiences.onEvent((e) => {
      if (generationChanged(e)) {
        this.#rebuildPolicySet();
        // A contract decides what any caller may hold for its audience: every pod's tokens may change.
        this.feed.clusterPoliciesChanged();
        // Another contract for the same audience may now be contested or uncontested.
        this.#enqueueAllAudiences();
      }
      this.#taQueue.add(objectKey(e.object.metadata));
    });
    this.pods.onEvent((e) => {
      if (e.type === "deleted") this.feed.podDeleted(e.object);
      else this.feed.podChanged(e.object);
      this.#enqueueNamespace(e.object.metadata.namespace ?? "");
      this.#enqueueAllClusterPolicies(recount);
    });
    this.namespaces.onEvent((e) => {
      this.feed.namespaceChanged(e.object.metadata.name);
      // Ownership rules select namespaces by label: a relabelled namespace may gain or lose an audience.
      if (e.type !== "modified" || e.old === undefined || JSON.stringify(e.old.metadata.labels) !== JSON.stringify(e.object.metadata.labels)) {
        this.#enqueueAllAudiences();
        this.feed.clusterPoliciesChanged();
      }
      this.#enqueueNamespace(e.object.metadata.name);
      this.#enqueueAllClusterPolicies(recount);
    });
    for (const inf of [this.tokenPolicies, this.clusterTokenPolicies, this.tokenAudiences]) {
      inf.onResync(() => {
        this.#enqueueAllTokenPolicies();
        this.#enqueueAllClusterPolicies();
        this.#enqueueAllAudiences();
      });
    }
    this.tracker.onRecord((ref) => {
      if (ref.kind === "TokenPolicy") this.#tpQueue.add(`${ref.namespace ?? ""}/${ref.name}`);
      else this.#ctpQueue.add(ref.name);
    });
    this.audits.onChange((r) => {
      if (r.kind === "TokenPolicy") this.#tpQueue.add(`${r.namespace ?? ""}/${r.name}`);
      else if (r.kind === "TokenAudience") this.#taQueue.add(`${r.namespace ?? ""}/${r.name}`);
      else this.#ctpQueue.add(r.name);
    });
    this.leader.onLeadershipChange((isLeader) => {
      metrics?.leader(isLeader);
      if (isLeader) {
        log.info({ identity: this.#opts.identity }, "leading: reconciling every policy");
        this.#enqueueAllTokenPolicies();
        this.#enqueueAllClusterPolicies();
        this.#enqueueAllAudiences();
      }
    });
    const warnedPods = new Set<string>();
    this.pods.onEvent((e) => {
      if (e.type === "deleted") warnedPods.delete(e.object.metadata.uid);
    });
    const base = {
      client: this.#opts.client,
      caches: this.caches,
      policySet: this.policySet,
      tracker: this.tracker,
      audits: this.audits,
      leadership: this.leader,
      events: this.events,
      warnedPods,
      now: this.#opts.now,
      fieldManager: this.#opts.fieldManager ?? "tessera-controller",
      ...(metrics === undefined ? {} : { metrics: metrics.reconciler }),
    };
    this.#wireIssuerCa();
    const tp = new PolicyReconciler({ ...base, kind: "TokenPolicy", log: log.child({ controller: "tokenpolicy" }) });
    const ctp = new PolicyReconciler({ ...base, kind: "ClusterTokenPolicy", log: log.child({ controller: "clustertokenpolicy" }) });
    const ta = new AudienceReconciler({
      client: this.#opts.client,
      audiences: this.caches.tokenAudiences,
      namespaces: this.caches.namespaces,
      policySet: this.policySet,
      leadership: this.leader,
      events: this.events,
      audits: this.audits,
      now: this.#opts.now,
      log: log.child({ controller: "tokenaudience" }),
      fieldManager: this.#opts.fieldManager ?? "tessera-controller",
    });
    this.#startWorkers = () => {
      const w = { log, timers: this.#opts.timers, ...(metrics === undefined ? {} : { metrics: metrics.worker }) };
      this.#workers = [
        runWorkers({ ...w, name: "tokenpolicy", queue: this.#tpQueue, reconcile: (k) => tp.reconcile(k) }),
        runWorkers({ ...w, name: "clustertokenpolicy", queue: this.#ctpQueue, reconcile: (k) => ctp.reconcile(k) }),
        runWorkers({ ...w, name: "tokenaudience", queue: this.#taQueue, reconcile: (k) => ta.reconcile(k) }),
      ];
      const caReconcile = this.#caReconcile;
      if (this.#caQueue !== undefined && caReconcile !== undefined) {
        this.#workers.push(runWorkers({ ...w, name: "issuerca", queue: this.#caQueue, reconcile: caReconcile }));
      }
    };
  }

  #startWorkers: () => void = () => undefined;

  /** Starts the watches, then (once synced) leader election and the reconcile workers. */
  async start(signal?: AbortSignal): Promise<void> {
    for (const inf of this.#informers()) inf.start();
    for (const inf of this.#informers()) await inf.waitForSync(signal);
    this.#synced = true;
    this.#rebuildPolicySet();
    this.#startWorkers();
    this.leader.start();
  }

  /** Graceful: release the lease first (another replica takes over at once), then stop queues, feed and watches. */
  async stop(options: { readonly releaseLease?: boolean } = {}): Promise<void> {
    await this.leader.stop({ release: options.releaseLease !== false });
    this.#tpQueue.shutDown();
    this.#ctpQueue.shutDown();
    this.#taQueue.shutDown();
    this.#caQueue?.shutDown();
    this.feed.close();
    await Promise.all(this.#workers);
    await Promise.all(this.#informers().map((i) => i.stop()));
  }
}
