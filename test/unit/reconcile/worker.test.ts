// Workers: a failed reconcile comes back with backoff, a success forgets past failures, requeueAfter schedules a refresh.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { runWorkers } from "../../../controller/src/reconcile/worker.ts";
import { WorkQueue } from "../../../controller/src/reconcile/work-queue.ts";
import { ManualTimers } from "./manual-timers.ts";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("runWorkers", () => {
  it("requeues a failing key with backoff and forgets its failures once it succeeds", async () => {
    const timers = new ManualTimers();
    const queue = new WorkQueue({ timers, itemBackoff: { baseMs: 100, maxMs: 1_000 } });
    let attempts = 0;
    const done = runWorkers({
      name: "test",
      queue,
      timers,
      log: pino({ level: "silent" }),
      concurrency: 1,
      reconcile: () => {
        attempts++;
        return attempts < 3 ? Promise.reject(new Error("apiserver unavailable")) : Promise.resolve(undefined);
      },
    });
    queue.add("ns/p");
    await tick();
    expect(attempts).toBe(1);
    expect(queue.failures("ns/p")).toBe(1);
    timers.advance(100);
    await tick();
    expect(attempts).toBe(2);
    timers.advance(199);
    await tick();
    expect(attempts).toBe(2);
    timers.advance(1);
    await tick();
    expect(attempts).toBe(3);
    expect(queue.failures("ns/p")).toBe(0);
    queue.shutDown();
    await done;
  });

  it("reconciles again after requeueAfter", async () => {
    const timers = new ManualTimers();
    const queue = new WorkQueue({ timers });
    let runs = 0;
    const done = runWorkers({
      name: "test",
      queue,
      timers,
      log: pino({ level: "silent" }),
      concurrency: 1,
      reconcile: () => {
        runs++;
        return Promise.resolve(runs === 1 ? { requeueAfterMs: 5_000 } : undefined);
      },
    });
    queue.add("k");
    await tick();
    timers.advance(5_000);
    await tick();
    expect(runs).toBe(2);
    queue.shutDown();
    await done;
  });
});
