// Pure timing rules shared by refreshes and the long-poll: jittered refresh point and capped exponential backoff.

export interface BackoffPolicy {
  /** Delay after the first failure. */
  readonly baseMs: number;
  /** No delay exceeds this, jitter included. */
  readonly capMs: number;
  /** Spread of each delay as a fraction (0.2 = +/-20%) so pods that failed together do not retry together. */
  readonly jitter: number;
}

/** Delay before retry number `failures` (1 = first retry): base * 2^(failures-1), jittered, capped. */
export function backoffDelayMs(policy: BackoffPolicy, failures: number, random: () => number): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const raw = Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
  const jittered = raw * (1 + policy.jitter * (2 * random() - 1));
  return Math.round(Math.min(policy.capMs, Math.max(0, jittered)));
}

/**
 * When to refresh a token valid from issuedAt to expiresAt: at `fraction` of its lifetime, spread by
 * +/-jitter of that point (Istio and SPIRE found that refreshing all at once floods the issuer), never later
 * than expiry and never sooner than minDelayMs after issue unless the token lives shorter than that.
 */
export function refreshAtMs(
  issuedAtMs: number,
  expiresAtMs: number,
  fraction: number,
  jitter: number,
  minDelayMs: number,
  random: () => number,
): number {
  const lifetime = Math.max(0, expiresAtMs - issuedAtMs);
  const delay = lifetime * fraction * (1 + jitter * (2 * random() - 1));
  return issuedAtMs + Math.min(lifetime, Math.max(Math.min(minDelayMs, lifetime), delay));
}
