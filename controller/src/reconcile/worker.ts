// Runs reconcile functions off a work queue: success forgets the key's failures, an error requeues it with backoff.
import type { Logger } from "pino";
import type { WorkQueue } from "./work-queue.ts";
import type { Timers } from "./timers.ts";

export interface ReconcileResult {
  /** Reconcile the key again after this long even if nothing changes (level-based refresh). */
  readonly requeueAfterMs?: number;
}

export interface WorkerMetrics {
  reconciled(controller: string, seconds: number, outcome: "ok" | "error"): void;
}

export interface WorkerOptions {
  /** Controller name for logs and metrics, e.g. "tokenpolicy". */
  readonly name: string;
  readonly queue: WorkQueue;
  readonly reconcile: (key: string) => Promise<ReconcileResult | undefined>;
  readonly log: Logger;
  readonly timers: Timers;
  readonly metrics?: WorkerMetrics;
  readonly concurrency?: number;
}

/** Starts `concurrency` workers; resolves when the queue is shut down and every worker has finished. */
export async function runWorkers(opts: WorkerOptions): Promise<void> {
  const one = async (): Promise<void> => {
    for (;;) {
      const key = await opts.queue.get();
      if (key === undefined) return;
      const started = opts.timers.now();
      try {
        const result = await opts.reconcile(key);
        opts.queue.forget(key);
        if (result?.requeueAfterMs !== undefined) opts.queue.addAfter(key, result.requeueAfterMs);
        opts.metrics?.reconciled(opts.name, (opts.timers.now() - started) / 1000, "ok");
      } catch (err) {
        opts.metrics?.reconciled(opts.name, (opts.timers.now() - started) / 1000, "error");
        opts.log.warn({ err, controller: opts.name, key, failures: opts.queue.failures(key) }, "reconcile failed; requeued");
        opts.queue.addRateLimited(key);
      } finally {
        opts.queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 2 }, one));
}
