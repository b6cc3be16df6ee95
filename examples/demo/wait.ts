// Polls until a check yields a value: the demo's one way of waiting for the cluster, the controller or the sidecar.
import { setTimeout as sleep } from "node:timers/promises";
import { DemoStepError, describeError } from "./runner.ts";

export interface WaitOptions {
  /** Completes "timed out waiting for ..." */
  readonly what: string;
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Called when waiting gives up, for a better message (e.g. a crashed process's last lines). */
  readonly explain?: () => string | undefined;
}

/** Resolves with the first value `check` returns that is not undefined; errors thrown by `check` count as "not yet". */
export async function waitUntil<T>(check: () => Promise<T | undefined>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let last = "";
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      if (err instanceof DemoStepError) throw err;
      last = describeError(err);
    }
    const why = options.explain?.();
    if (why !== undefined) throw new DemoStepError(`while waiting for ${options.what}: ${why}`);
    if (Date.now() >= deadline) {
      throw new DemoStepError(`timed out after ${String(options.timeoutMs / 1000)} s waiting for ${options.what}${last === "" ? "" : ` (last error: ${last})`}`);
    }
    await sleep(options.intervalMs ?? 200);
  }
}
