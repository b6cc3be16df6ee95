// A bound on how long the issuer waits for an apiserver call, so a stopped apiserver turns into a clear error, not a hang.

/**
 * Runs `start` for at most `ms`: past it, the returned promise rejects with onTimeout() and the signal given to
 * `start` aborts the work, whose late answer or failure is ignored.
 */
export function withDeadline<T>(start: (signal: AbortSignal) => Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  const abort = new AbortController();
  const promise = start(abort.signal);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(onTimeout());
      abort.abort();
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
