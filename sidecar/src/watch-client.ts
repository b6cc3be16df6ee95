// The re-issuance channel: a long-poll on the issuer that says when this pod's entitlement changed.
import type { Logger } from "pino";
import type { EntitlementChange } from "../../api/exchange.ts";
import type { BackoffPolicy } from "./backoff.ts";
import { backoffDelayMs } from "./backoff.ts";
import { SidecarError } from "./errors.ts";
import type { Denial, IssuerClient } from "./issuer-client.ts";
import type { Metrics } from "./metrics.ts";
import type { SubjectTokenSource } from "./subject-token.ts";

export interface WatchHandlers {
  /**
   * The entitlement changed. `requestedBefore` is set on the first answer (baseline): only tokens requested before
   * that poll was sent can predate the reported version; later changes refresh everything.
   */
  onChange(change: EntitlementChange, requestedBefore: Date | undefined): void;
  /** The issuer says the pod no longer exists: stop and report unready. */
  onGone(denial: Denial): void;
}

export interface WatchClientOptions {
  readonly issuer: Pick<IssuerClient, "exchange" | "watch">;
  readonly subject: SubjectTokenSource;
  readonly handlers: WatchHandlers;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly random: () => number;
  /** Resolves after `ms` or when `signal` aborts (injected so tests need no real time). */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly backoff?: BackoffPolicy;
  /** Least time between two polls, so an issuer answering instantly cannot make the sidecar spin. */
  readonly minPollIntervalMs?: number;
}

export const DEFAULT_WATCH_BACKOFF: BackoffPolicy = Object.freeze({ baseMs: 1_000, capMs: 30_000, jitter: 0.2 });

export class WatchClient {
  readonly #o: WatchClientOptions;
  readonly #abort = new AbortController();
  /** Ends a backoff sleep early (see nudge). */
  #wake: AbortController | undefined;
  #version = "";
  #loop: Promise<void> | undefined;

  constructor(options: WatchClientOptions) {
    this.#o = options;
  }

  /** Last entitlement version seen ("" before the first answer). */
  get version(): string {
    return this.#version;
  }

  /**
   * The issuer answered someone else (an exchange succeeded): if this loop is backing off after errors, poll now,
   * so re-issuance resumes as soon as the issuer is back rather than after up to a full backoff delay.
   */
  nudge(): void {
    this.#wake?.abort();
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Aborts the poll in flight and resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { issuer, subject, handlers, metrics, logger, now, random, sleep } = this.#o;
    const backoff = this.#o.backoff ?? DEFAULT_WATCH_BACKOFF;
    const minInterval = this.#o.minPollIntervalMs ?? 500;
    const signal = this.#abort.signal;
    // A function, not the property, because the flag flips across awaits.
    const stopped = (): boolean => signal.aborted;
    let failures = 0;
    while (!stopped()) {
      const sentAt = now();
      let error: { code: string; message: string } | undefined;
      try {
        const { token } = await subject.read();
        const outcome = await issuer.watch(token, this.#version, signal);
        if (stopped()) return;
        switch (outcome.kind) {
          case "changed": {
            if (outcome.change.version === "") {
              // No version means the issuer no longer knows the pod: poll again from scratch, where a gone pod
              // answers 410. Refreshing here would only be denied.
              logger.info({ reason: outcome.change.reason }, "entitlement version reset");
              this.#version = "";
              failures = 0;
              break;
            }
            const baseline = this.#version === "";
            this.#version = outcome.change.version;
            failures = 0;
            metrics.inc("tessera_sidecar_watch_changes_total");
            logger.info({ version: outcome.change.version, reason: outcome.change.reason, baseline }, "entitlement version");
            handlers.onChange(outcome.change, baseline ? sentAt : undefined);
            break;
          }
          case "unchanged":
            failures = 0;
            break;
          case "gone":
            logger.warn({ error: outcome.denial.error.error, reason: outcome.denial.error.tessera_reason }, "pod is gone; watch stopped");
            handlers.onGone(outcome.denial);
            return;
          case "denied":
            error = { code: "ISSUER_DENIED", message: `${outcome.denial.status} ${outcome.denial.error.error}` };
            break;
          case "failed":
            error = { code: outcome.failure.code, message: outcome.failure.message };
            break;
        }
      } catch (err) {
        error = {
          code: err instanceof SidecarError ? err.code : "SUBJECT_TOKEN_UNREADABLE",
          message: err instanceof Error ? err.message : "watch failed",
        };
      }
      if (stopped()) return;
      let wait: number;
      if (error === undefined) {
        wait = Math.max(0, minInterval - (now().getTime() - sentAt.getTime()));
      } else {
        failures += 1;
        metrics.inc("tessera_sidecar_watch_failures_total", { code: error.code });
        wait = backoffDelayMs(backoff, failures, random);
        logger.warn({ code: error.code, err: error.message, retryInMs: wait }, "re-issuance channel poll failed");
      }
      if (wait > 0) {
        if (error === undefined) {
          await sleep(wait, signal);
        } else {
          this.#wake = new AbortController();
          await sleep(wait, AbortSignal.any([signal, this.#wake.signal]));
          this.#wake = undefined;
        }
      }
    }
  }
}

/** A sleep that ends early on abort (the production `sleep`). */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
