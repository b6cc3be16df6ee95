// Drives the token cache: background refreshes on a timer, exchanges on request, files and metrics on each outcome.
import type { Logger } from "pino";
import type { Denial, IssuerClient } from "./issuer-client.ts";
import { SidecarError } from "./errors.ts";
import type { SidecarErrorCode } from "./errors.ts";
import type { Metrics } from "./metrics.ts";
import { ON_DEMAND_LABEL } from "./metrics.ts";
import type { SubjectTokenSource } from "./subject-token.ts";
import type { HeldToken, Lookup, TokenCache } from "./token-cache.ts";
import type { TokenFiles } from "./token-files.ts";
import type { TokenKey } from "./token-key.ts";
import { keyId } from "./token-key.ts";

/** What a local request for a token gets. */
export type TokenResult =
  | { readonly kind: "token"; readonly token: HeldToken }
  | { readonly kind: "denied"; readonly denial: Denial }
  | { readonly kind: "unavailable"; readonly code: SidecarErrorCode; readonly message: string };

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const nodeTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

export interface TokenServiceOptions {
  readonly cache: TokenCache;
  readonly issuer: Pick<IssuerClient, "exchange" | "watch">;
  readonly subject: SubjectTokenSource;
  readonly files: TokenFiles | undefined;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly timers: Timers;
  /** Longest sleep between looks at the cache, so a wall-clock jump is noticed. */
  readonly maxSleepMs?: number;
  /** Called after every token the issuer grants (main uses it to end the watch's backoff). */
  readonly onIssued?: () => void;
}

export class TokenService {
  readonly #o: TokenServiceOptions;
  readonly #inFlight = new Map<string, Promise<void>>();
  #timer: unknown;
  #running = false;
  #podGone = false;

  constructor(options: TokenServiceOptions) {
    this.#o = options;
  }

  /** Starts background refreshing: configured tokens are fetched at once. */
  start(): void {
    this.#running = true;
    this.tick();
  }

  /** Stops the timer; exchanges in flight finish but schedule nothing more. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#o.timers.clear(this.#timer);
    this.#timer = undefined;
  }

  /** Starts every due refresh and sets the timer for the next one. */
  tick(): void {
    if (!this.#running) return;
    for (const key of this.#o.cache.due()) void this.refresh(key);
    this.#schedule();
  }

  /** The re-issuance channel reported a change: refresh what was requested before `requestedBefore`. */
  refreshAll(requestedBefore?: Date): void {
    const count = this.#o.cache.refreshAll(requestedBefore);
    this.#o.logger.info({ tokens: count }, "entitlement changed, refreshing tokens");
    this.tick();
  }

  /** The pod is gone (the issuer said 410): stop refreshing, stop serving, remove the files, stay unready. */
  async podGone(): Promise<void> {
    this.#podGone = true;
    this.stop();
    const names = this.#o.cache.entries().flatMap((e) => e.names);
    await this.#removeFiles(names, this.#o.logger);
  }

  readiness(): { readonly ready: boolean; readonly missing: readonly string[]; readonly podGone: boolean } {
    const r = this.#o.cache.readiness();
    return { ready: r.ready && !this.#podGone, missing: r.missing, podGone: this.#podGone };
  }

  keyForName(name: string): TokenKey | undefined {
    return this.#o.cache.keyForName(name);
  }

  /**
   * A token for the workload: the held one, or an exchange now when none is held and none is in backoff. A held
   * token is returned as is, not in a promise: that is nearly every request, and the local endpoint answers it
   * without a trip through the microtask queue.
   */
  get(key: TokenKey): TokenResult | Promise<TokenResult> {
    const { cache, metrics } = this.#o;
    // A deleted pod's tokens are not served, even the ones still unexpired.
    if (this.#podGone) return { kind: "unavailable", code: "POD_GONE", message: "the pod is gone; no tokens are issued" };
    const found = cache.lookup(key);
    if (found.state === "fresh") {
      metrics.inc("tessera_sidecar_cache_hits_total");
      return { kind: "token", token: found.token };
    }
    return this.#miss(key, found);
  }

  async #miss(key: TokenKey, lookedUp: Lookup): Promise<TokenResult> {
    const { cache, metrics } = this.#o;
    let found = lookedUp;
    metrics.inc("tessera_sidecar_cache_misses_total");
    if (found.state === "unknown") {
      cache.ensure(key);
      found = cache.lookup(key);
    }
    if (found.state === "missing" && (found.due || found.inFlight)) {
      await (this.#inFlight.get(keyId(key)) ?? this.refresh(key));
      found = cache.lookup(key);
    }
    if (found.state === "fresh") return { kind: "token", token: found.token };
    if (found.state === "missing" && found.lastError !== undefined) {
      const e = found.lastError;
      return e.kind === "denied" ? { kind: "denied", denial: e.denial } : { kind: "unavailable", code: e.code, message: e.message };
    }
    return { kind: "unavailable", code: "TOKEN_NOT_READY", message: "no token is held yet" };
  }

  /** One exchange for `key`; concurrent calls for the same key share it. */
  refresh(key: TokenKey): Promise<void> {
    const id = keyId(key);
    const running = this.#inFlight.get(id);
    if (running !== undefined) return running;
    if (!this.#o.cache.begin(key)) return Promise.resolve();
    const p = this.#exchange(key).finally(() => {
      this.#inFlight.delete(id);
      this.#schedule();
    });
    this.#inFlight.set(id, p);
    return p;
  }

  async #exchange(key: TokenKey): Promise<void> {
    const { cache, issuer, subject, metrics, logger } = this.#o;
    const names = cache.namesFor(key);
    const label = { token: names.length > 0 ? names.join(",") : ON_DEMAND_LABEL };
    const log = logger.child({ audience: key.audience, scopes: key.scopes.join(" "), ...label });
    let subjectToken: string;
    try {
      subjectToken = (await subject.read()).token;
    } catch (err) {
      const code = err instanceof SidecarError ? err.code : "SUBJECT_TOKEN_UNREADABLE";
      const message = err instanceof Error ? err.message : "subject token unreadable";
      cache.failed(key, code, message);
      metrics.inc("tessera_sidecar_refresh_failures_total", { ...label, code });
      log.warn({ code, err: message }, "cannot read the subject token; will retry");
      return;
    }
    const outcome = await issuer.exchange(subjectToken, key);
    switch (outcome.kind) {
      case "issued": {
        const held = cache.succeeded(key, outcome.token);
        metrics.inc("tessera_sidecar_refreshes_total", label);
        this.#o.onIssued?.();
        if (held !== undefined) {
          log.info({ expiresAt: held.expiresAt.toISOString() }, "token refreshed");
          await this.#writeFiles(names, held.accessToken, log);
        }
        return;
      }
      case "denied": {
        cache.denied(key, outcome.denial);
        metrics.inc("tessera_sidecar_refresh_failures_total", { ...label, code: "ISSUER_DENIED" });
        const e = outcome.denial.error;
        log.warn(
          { status: outcome.denial.status, error: e.error, reason: e.tessera_reason, decisionId: e.tessera_decision_id },
          "issuer denied the token; dropped it",
        );
        await this.#removeFiles(names, log);
        return;
      }
      case "failed": {
        cache.failed(key, outcome.failure.code, outcome.failure.message);
        metrics.inc("tessera_sidecar_refresh_failures_total", { ...label, code: outcome.failure.code });
        log.warn({ code: outcome.failure.code, err: outcome.failure.message }, "token exchange failed; will retry");
        return;
      }
    }
  }

  async #writeFiles(names: readonly string[], accessToken: string, log: Logger): Promise<void> {
    const files = this.#o.files;
    if (files === undefined) return;
    for (const name of names) {
      try {
        await files.write(name, accessToken);
        this.#o.metrics.inc("tessera_sidecar_token_file_writes_total", { result: "ok" });
      } catch (err) {
        this.#o.metrics.inc("tessera_sidecar_token_file_writes_total", { result: "error" });
        log.error({ file: name, err: err instanceof Error ? err.message : "error" }, "cannot write token file");
      }
    }
  }

  async #removeFiles(names: readonly string[], log: Logger): Promise<void> {
    const files = this.#o.files;
    if (files === undefined) return;
    for (const name of names) {
      await files.remove(name).catch((err: unknown) => {
        log.error({ file: name, err: err instanceof Error ? err.message : "error" }, "cannot remove token file");
      });
    }
  }

  /** Gauges computed at scrape time from the cache. */
  gauges(): Array<{ name: "tessera_sidecar_token_expiry_seconds" | "tessera_sidecar_on_demand_tokens" | "tessera_sidecar_ready"; labels?: Record<string, string>; value: number }> {
    const t = this.#o.now().getTime();
    const out: ReturnType<TokenService["gauges"]> = [];
    let onDemand = 0;
    for (const e of this.#o.cache.entries()) {
      const left = e.token === undefined ? 0 : Math.max(0, (e.token.expiresAt.getTime() - t) / 1000);
      if (e.configured) {
        for (const name of e.names) out.push({ name: "tessera_sidecar_token_expiry_seconds", labels: { token: name }, value: Math.floor(left) });
      } else if (left > 0) {
        onDemand += 1;
      }
    }
    out.push({ name: "tessera_sidecar_on_demand_tokens", value: onDemand });
    out.push({ name: "tessera_sidecar_ready", value: this.readiness().ready ? 1 : 0 });
    return out;
  }

  #schedule(): void {
    if (!this.#running) return;
    const { timers, cache, now } = this.#o;
    if (this.#timer !== undefined) timers.clear(this.#timer);
    this.#timer = undefined;
    const wake = cache.nextWakeAt();
    if (wake === undefined) return;
    const delay = Math.min(this.#o.maxSleepMs ?? 30_000, Math.max(0, wake.getTime() - now().getTime()));
    this.#timer = timers.set(() => {
      this.#timer = undefined;
      this.tick();
    }, delay);
  }
}
