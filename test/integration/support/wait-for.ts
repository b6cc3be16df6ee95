// Polls a check until it passes: for state the apiserver reaches eventually (caches, Established conditions).

export interface WaitForOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** Shown in the error when the wait times out. */
  readonly description?: string;
}

/**
 * Calls `check` until it returns a value other than undefined/false, or stops throwing; returns that value.
 * On timeout, rethrows the last error (so an `expect` inside `check` reports its own diff).
 */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const intervalMs = options.intervalMs ?? 250;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      if (lastError !== undefined) {
        throw lastError instanceof Error ? lastError : new Error("the check threw a non-Error value", { cause: lastError });
      }
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.description ?? "a condition"}`);
    }
    await new Promise((resolveSleep) => setTimeout(resolveSleep, intervalMs));
  }
}
