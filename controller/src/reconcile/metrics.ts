// Prometheus metrics of the controller on an injected registry: queue, reconcile, watches, caches, leadership, uninjected pods, issuer CA.
import type { EntitlementChangeReason } from "../../../api/exchange.ts";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { InformerMetrics } from "./informer.ts";
import type { IssuerCaMetrics } from "./issuer-ca-publisher.ts";
import type { PolicyReconcilerMetrics } from "./policy-reconciler.ts";
import type { WorkerMetrics } from "./worker.ts";
import type { WorkQueueMetrics } from "./work-queue.ts";

export interface ControllerMetrics {
  readonly informer: InformerMetrics;
  readonly worker: WorkerMetrics;
  readonly reconciler: PolicyReconcilerMetrics;
  readonly issuerCa: IssuerCaMetrics;
  queue(name: string): WorkQueueMetrics;
  leader(isLeader: boolean): void;
  entitlementWake(reason: EntitlementChangeReason): void;
  entitlementWaiters(n: number): void;
}

export function controllerMetrics(registry: Registry): ControllerMetrics {
  const registers = [registry];
  const restarts = new Counter({ name: "tessera_watch_restarts_total", help: "Watch restarts by resource and reason.", labelNames: ["resource", "reason"], registers });
  const cacheSize = new Gauge({ name: "tessera_cache_objects", help: "Objects in each informer cache.", labelNames: ["resource"], registers });
  const synced = new Gauge({ name: "tessera_cache_synced", help: "1 once an informer's first list has filled its cache, 0 before.", labelNames: ["resource"], registers });
  const depth = new Gauge({ name: "tessera_workqueue_depth", help: "Keys waiting in each work queue.", labelNames: ["queue"], registers });
  const latency = new Histogram({
    name: "tessera_workqueue_queue_duration_seconds",
    help: "Time a key waits in the queue before a worker takes it.",
    labelNames: ["queue"],
    buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers,
  });
  const reconcileDuration = new Histogram({
    name: "tessera_reconcile_duration_seconds",
    help: "Reconcile latency by controller and outcome.",
    labelNames: ["controller", "outcome"],
    buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers,
  });
  const reconcileErrors = new Counter({ name: "tessera_reconcile_errors_total", help: "Failed reconciles by controller.", labelNames: ["controller"], registers });
  const uninjected = new Gauge({
    name: "tessera_uninjected_pods",
    help: "Pods that opted in and match the policy but run without the sidecar.",
    labelNames: ["kind", "policy"],
    registers,
  });
  const statusWrites = new Counter({ name: "tessera_status_writes_total", help: "Policy status writes by kind.", labelNames: ["kind"], registers });
  const leader = new Gauge({ name: "tessera_leader", help: "1 while this replica holds the leader lease.", registers });
  const wakes = new Counter({ name: "tessera_entitlement_wakes_total", help: "Re-issuance long-polls answered with a change, by reason.", labelNames: ["reason"], registers });
  const waiters = new Gauge({ name: "tessera_entitlement_waiters", help: "Re-issuance long-polls waiting.", registers });
  const caWrites = new Counter({
    name: "tessera_issuer_ca_writes_total",
    help: "Issuer CA ConfigMaps created or updated, by action.",
    labelNames: ["action"],
    registers,
  });
  const caForeign = new Gauge({
    name: "tessera_issuer_ca_foreign_configmaps",
    help: "Namespaces that need the issuer CA where a ConfigMap of that name exists that Tessera did not create (left untouched).",
    registers,
  });
  leader.set(0);
  caForeign.set(0);
  return {
    informer: {
      watchRestart: (resource, reason) => { restarts.inc({ resource, reason }); },
      cacheSize: (resource, size) => { cacheSize.set({ resource }, size); },
      synced: (resource, done) => { synced.set({ resource }, done ? 1 : 0); },
    },
    worker: {
      reconciled: (controller, seconds, outcome) => {
        reconcileDuration.observe({ controller, outcome }, seconds);
        if (outcome === "error") reconcileErrors.inc({ controller });
      },
    },
    reconciler: {
      uninjectedPods: (kind, policy, count) => {
        if (count === undefined) uninjected.remove({ kind, policy });
        else uninjected.set({ kind, policy }, count);
      },
      statusWrites: (kind) => { statusWrites.inc({ kind }); },
    },
    issuerCa: {
      written: (action) => { caWrites.inc({ action }); },
      foreign: (count) => { caForeign.set(count); },
    },
    queue: (name) => ({
      depth: (n) => { depth.set({ queue: name }, n); },
      queueLatency: (s) => { latency.observe({ queue: name }, s); },
    }),
    leader: (isLeader) => { leader.set(isLeader ? 1 : 0); },
    entitlementWake: (reason) => { wakes.inc({ reason }); },
    entitlementWaiters: (n) => { waiters.set(n); },
  };
}
