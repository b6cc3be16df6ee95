// Exponential backoff with full jitter for restarting watches (pure: random injected).

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor?: number;
}

/** Delay before attempt `attempt` (0-based): a random point in [base/2, base], base = initial * factor^attempt capped. */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number): number {
  const base = Math.min(opts.maxMs, opts.initialMs * (opts.factor ?? 2) ** Math.min(attempt, 30));
  return Math.round(base / 2 + (random() * base) / 2);
}
