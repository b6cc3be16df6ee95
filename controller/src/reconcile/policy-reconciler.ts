// Reconciles one root policy kind: gather from caches, decide the status (pure), write it only when it changed, emit Events.
import type { Logger } from "pino";
import {
  API_GROUP_VERSION,
  INJECT_ENABLED,
  LABEL_INJECT,
  RESOURCE_CLUSTER_TOKEN_POLICIES,
  RESOURCE_TOKEN_POLICIES,
  SIDECAR_CONTAINER_NAME,
} from "../../../api/constants.ts";
import type { AnyTokenPolicy } from "../../../api/token-policy.ts";
import type { EventRecorder } from "./event-recorder.ts";
import { gatherFacts, type Caches } from "./gather.ts";
import type { IssuanceTracker } from "./issuance-tracker.ts";
import type { AuditTracker } from "./audit-tracker.ts";
import { expectOk, type KubeClient } from "../kube/kube-http.ts";
import type { Leadership } from "./leader.ts";
import type { CachedClusterTokenPolicy, CachedTokenPolicy, SlimPod } from "./objects.ts";
import type { LivePolicySet } from "./live-policy-set.ts";
import { decideStatus } from "./policy-status.ts";
import type { Store } from "./store.ts";
import { withAuditRemoval } from "./audit-status.ts";
import type { ReconcileResult } from "./worker.ts";

export interface PolicyReconcilerMetrics {
  uninjectedPods(kind: string, key: string, count: number | undefined): void;
  statusWrites(kind: string): void;
}

export interface PolicyReconcilerOptions<TC, TS> {
  readonly kind: "TokenPolicy" | "ClusterTokenPolicy";
  readonly client: KubeClient;
  readonly caches: Caches;
  readonly policySet: LivePolicySet<TC, TS>;
  readonly tracker: IssuanceTracker;
  /** What audited rules would have changed, for status.audit; without it status.audit holds what it already holds. */
  readonly audits?: AuditTracker;
  readonly leadership: Leadership;
  readonly events: EventRecorder;
  /** Pods already warned about (one Event per pod uid); shared by both kinds. */
  readonly warnedPods: Set<string>;
  readonly now: () => Date;
  readonly log: Logger;
  readonly metrics?: PolicyReconcilerMetrics;
  /** Field manager recorded in managedFields for status writes. */
  readonly fieldManager: string;
}

export class PolicyReconciler<TC, TS> {
  readonly #opts: PolicyReconcilerOptions<TC, TS>;

  constructor(opts: PolicyReconcilerOptions<TC, TS>) {
    this.#opts = opts;
  }

  get #store(): Store<CachedTokenPolicy | CachedClusterTokenPolicy> {
    return (this.#opts.kind === "TokenPolicy" ? this.#opts.caches.tokenPolicies : this.#opts.caches.clusterTokenPolicies);
  }

  /** Idempotent and level-based: the same caches give the same status, and no write when nothing changed. */
  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { leadership, metrics, kind } = this.#opts;
    // Followers serve from caches but never write; becoming leader re-enqueues every key.
    if (!leadership.isLeader()) return undefined;
    const policy = this.#store.get(key);
    if (policy === undefined) {
      metrics?.uninjectedPods(kind, key, undefined);
      return undefined;
    }
    if (policy.metadata.deletionTimestamp !== undefined) return undefined;
    const gathered = gatherFacts(policy, this.#opts.caches, this.#opts.policySet, this.#opts.tracker, this.#opts.audits);
    const decision = decideStatus(policy.status, gathered.facts, this.#opts.now());
    metrics?.uninjectedPods(kind, key, gathered.uninjected.length);
    if (decision.changed) {
      if (!leadership.isLeader()) return undefined;
      await this.#writeStatus(policy, decision.status);
      metrics?.statusWrites(kind);
    }
    const involved = {
      apiVersion: API_GROUP_VERSION,
      kind,
      name: policy.metadata.name,
      uid: policy.metadata.uid,
      ...(policy.metadata.namespace === undefined ? {} : { namespace: policy.metadata.namespace }),
    };
    for (const event of decision.events) await this.#opts.events.emit(involved, event);
    for (const pod of gathered.uninjected) await this.#warnPod(pod, policy);
    return undefined;
  }

  async #writeStatus(policy: AnyTokenPolicy, status: NonNullable<AnyTokenPolicy["status"]>): Promise<void> {
    const { namespace, name } = policy.metadata;
    const path =
      this.#opts.kind === "TokenPolicy"
        ? `/apis/${API_GROUP_VERSION}/namespaces/${encodeURIComponent(namespace ?? "")}/${RESOURCE_TOKEN_POLICIES}/${encodeURIComponent(name)}/status`
        : `/apis/${API_GROUP_VERSION}/${RESOURCE_CLUSTER_TOKEN_POLICIES}/${encodeURIComponent(name)}/status`;
    // Merge patch replaces the whole status (conditions is a list); the leader is the only status writer.
    const res = await this.#opts.client.request("PATCH", `${path}?fieldManager=${encodeURIComponent(this.#opts.fieldManager)}`, {
      body: { status: withAuditRemoval(status) },
      contentType: "application/merge-patch+json",
    });
    if (res.status === 404) return;
    // The cache is not updated here: the watch delivers our write like any other change, so no event is lost. A
    // reconcile that runs before it arrives recomputes the same status (a no-op write) and the recorder drops the repeat Event.
    expectOk(res, `patch ${this.#opts.kind} status`);
  }

  async #warnPod(pod: SlimPod, policy: AnyTokenPolicy): Promise<void> {
    const warned = this.#opts.warnedPods;
    if (warned.has(pod.metadata.uid)) return;
    const before = this.#opts.events.written;
    await this.#opts.events.emit(
      { apiVersion: "v1", kind: "Pod", name: pod.metadata.name, namespace: pod.metadata.namespace ?? "", uid: pod.metadata.uid },
      {
        type: "Warning",
        reason: "SidecarNotInjected",
        message: `The pod opted in to Tessera (${LABEL_INJECT}=${INJECT_ENABLED} on the pod or its namespace) and ${policy.kind} ${policy.metadata.name} selects it, but it has no ${SIDECAR_CONTAINER_NAME} container: injection was bypassed and it cannot receive tokens.`,
      },
    );
    if (this.#opts.events.written > before) warned.add(pod.metadata.uid);
  }
}
