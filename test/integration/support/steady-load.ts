// Steady request load for fault tests: a fixed pace, every outcome tallied, so a test can say "0 failed of N".

/** What one request came to: ok, or a failure with a short label (an HTTP status and OAuth error, a refused port). */
export type LoadResult = { readonly ok: true } | { readonly ok: false; readonly label: string };

export interface LoadTally {
  readonly sent: number;
  readonly ok: number;
  /** Failures by label, e.g. `503 temporarily_unavailable`; empty when every request succeeded. */
  readonly failures: Readonly<Record<string, number>>;
}

export interface SteadyLoad {
  /** What has been tallied so far (requests still in flight are not counted yet). */
  tally(): LoadTally;
  /** Stops sending, waits for what is in flight, and returns the final tally. */
  stop(): Promise<LoadTally>;
}

/** Sends one request every `intervalMs` (not waiting for the previous one, as independent pods would). */
export function steadyLoad(send: (sequence: number) => Promise<LoadResult>, intervalMs: number): SteadyLoad {
  let sent = 0;
  let ok = 0;
  const failures: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  const fire = (): void => {
    const sequence = sent;
    sent += 1;
    const done = send(sequence)
      .catch((error: unknown) => ({ ok: false as const, label: `threw ${error instanceof Error ? error.message : String(error)}` }))
      .then((result) => {
        if (result.ok) ok += 1;
        else failures[result.label] = (failures[result.label] ?? 0) + 1;
      })
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
  };
  const timer = setInterval(fire, intervalMs);
  const tally = (): LoadTally => ({ sent: sent - inFlight.size, ok, failures: { ...failures } });
  return {
    tally,
    async stop() {
      clearInterval(timer);
      await Promise.all([...inFlight]);
      return tally();
    },
  };
}
