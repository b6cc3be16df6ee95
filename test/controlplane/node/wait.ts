// Polls a condition until it holds, with the last error in the timeout message.
import { ControlPlaneError } from "../errors.ts";

export async function waitUntil(what: string, timeoutMs: number, probe: () => Promise<boolean>, intervalMs = 500): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      if (await probe()) return;
    } catch (err) {
      // A process that ended will not come back: fail now rather than at the deadline.
      if (err instanceof ControlPlaneError && err.code === "PROCESS_EXITED") throw err;
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw new ControlPlaneError("NOT_READY", `not so after ${timeoutMs} ms: ${what}${last !== "" ? ` (${last})` : ""}`);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, intervalMs));
  }
}
