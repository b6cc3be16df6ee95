// Token service with a scripted issuer: startup fetch, files, on-demand exchange, denial, outage, rotation, and no tokens in logs.
import { describe, expect, it } from "vitest";
import type { ExchangeOutcome, IssuerClient, WatchOutcome } from "../../../sidecar/src/issuer-client.ts";
import { SidecarError } from "../../../sidecar/src/errors.ts";
import { Metrics } from "../../../sidecar/src/metrics.ts";
import type { SubjectTokenSource } from "../../../sidecar/src/subject-token.ts";
import { TokenCache } from "../../../sidecar/src/token-cache.ts";
import type { TokenFiles } from "../../../sidecar/src/token-files.ts";
import { tokenKey } from "../../../sidecar/src/token-key.ts";
import type { TokenKey } from "../../../sidecar/src/token-key.ts";
import type { Timers } from "../../../sidecar/src/token-service.ts";
import { TokenService } from "../../../sidecar/src/token-service.ts";
import { capturedLogger, fakeJwt, manualClock } from "./helpers.ts";

const TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
const payments = { name: "payments", audience: "https://payments.example", scopes: ["read"] } as const;
const paymentsKey = tokenKey(payments.audience, payments.scopes);

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

function harness(script: (key: TokenKey, subject: string, n: number, clock: { ms(): number }) => ExchangeOutcome) {
  const clock = manualClock();
  let subjectToken: string | SidecarError = fakeJwt(Math.floor(clock.ms() / 1000) + 3600, "subject-1");
  const exchanges: Array<{ key: TokenKey; subject: string }> = [];
  const issuer: Pick<IssuerClient, "exchange" | "watch"> = {
    exchange(subject, key) {
      exchanges.push({ key, subject });
      return Promise.resolve(script(key, subject, exchanges.length, clock));
    },
    watch: () => Promise.resolve<WatchOutcome>({ kind: "unchanged" }),
  };
  const subject: SubjectTokenSource = {
    read: () =>
      subjectToken instanceof SidecarError
        ? Promise.reject(subjectToken)
        : Promise.resolve({ token: subjectToken, expiresAt: new Date(clock.ms() + 3_600_000) }),
  };
  const written = new Map<string, string>();
  const files: TokenFiles = {
    write: (name, content) => {
      written.set(name, content);
      return Promise.resolve();
    },
    remove: (name) => {
      written.delete(name);
      return Promise.resolve();
    },
  };
  const timer: { ms: number | undefined } = { ms: undefined };
  const timers: Timers = {
    set: (_fn, ms) => {
      timer.ms = ms;
      return 1;
    },
    clear: () => {
      timer.ms = undefined;
    },
  };
  const metrics = new Metrics();
  const { logger, lines } = capturedLogger();
  const cache = new TokenCache({ tokens: [payments], now: clock.now, random: () => 0.5 });
  const service = new TokenService({ cache, issuer, subject, files, metrics, logger, now: clock.now, timers, maxSleepMs: 3_600_000 });
  return {
    clock,
    service,
    exchanges,
    written,
    timer,
    metrics,
    lines,
    rotate(token: string | SidecarError) {
      subjectToken = token;
    },
    subjectToken: () => subjectToken,
  };
}

const issuedFor =
  (lifetimeS: number) =>
  (key: TokenKey, _subject: string, n: number, clock: { ms(): number }): ExchangeOutcome => ({
    kind: "issued",
    token: {
      accessToken: fakeJwt(Math.floor(clock.ms() / 1000) + lifetimeS, `${key.audience}#${n}`),
      issuedTokenType: TOKEN_TYPE,
      tokenType: "Bearer",
      expiresInSeconds: lifetimeS,
      scope: undefined,
    },
  });

describe("TokenService", () => {
  it("fetches configured tokens at start, writes their files, becomes ready and sleeps until the half-life", async () => {
    const h = harness((...a) => issuedFor(600)(...a));
    h.service.start();
    await settle();
    expect(h.exchanges).toHaveLength(1);
    expect(h.service.readiness()).toEqual({ ready: true, missing: [], podGone: false });
    expect(h.written.get("payments")).toMatch(/^ey/);
    expect(h.timer.ms).toBe(300_000);
    expect(h.metrics.value("tessera_sidecar_refreshes_total", { token: "payments" })).toBe(1);
  });

  it("rewrites the file on every refresh", async () => {
    const h = harness((...a) => issuedFor(600)(...a));
    h.service.start();
    await settle();
    const first = h.written.get("payments");
    h.clock.advance(300_000);
    h.service.tick();
    await settle();
    expect(h.exchanges).toHaveLength(2);
    expect(h.written.get("payments")).not.toBe(first);
  });

  it("exchanges once for concurrent requests of a new run-time token, then serves it from the cache", async () => {
    const h = harness((...a) => issuedFor(600)(...a));
    const key = tokenKey("https://reports.example", []);
    const [a, b] = await Promise.all([h.service.get(key), h.service.get(key)]);
    expect(a).toEqual(b);
    expect(a.kind).toBe("token");
    expect(h.exchanges).toHaveLength(1);
    await h.service.get(key);
    expect(h.exchanges).toHaveLength(1);
    expect(h.metrics.value("tessera_sidecar_cache_hits_total")).toBe(1);
    expect(h.written.has("reports")).toBe(false);
  });

  it("passes a denial through and does not ask again while backing off", async () => {
    const denial = { status: 403, error: { error: "access_denied" as const, error_description: "denied", tessera_reason: "no-matching-policy" } };
    const h = harness(() => ({ kind: "denied", denial }));
    const key = tokenKey("https://other.example", []);
    expect(await h.service.get(key)).toEqual({ kind: "denied", denial });
    expect(await h.service.get(key)).toEqual({ kind: "denied", denial });
    expect(h.exchanges).toHaveLength(1);
  });

  it("removes a configured token's file when a refresh is denied", async () => {
    let deny = false;
    const h = harness((...a) =>
      deny ? { kind: "denied", denial: { status: 403, error: { error: "access_denied", error_description: "policy removed" } } } : issuedFor(600)(...a),
    );
    h.service.start();
    await settle();
    expect(h.written.has("payments")).toBe(true);
    deny = true;
    h.service.refreshAll();
    await settle();
    expect(h.written.has("payments")).toBe(false);
    expect(h.service.readiness().ready).toBe(false);
  });

  it("serves the cached token while the issuer is down, then reports the failure code after exp", async () => {
    let down = false;
    const h = harness((...a) =>
      down ? { kind: "failed", failure: { code: "ISSUER_UNREACHABLE", message: "connect ECONNREFUSED" } } : issuedFor(600)(...a),
    );
    h.service.start();
    await settle();
    const held = await h.service.get(paymentsKey);
    down = true;
    // 19 steps of 30 s: up to 570 s of a 600 s token, every refresh attempt failing.
    for (let step = 0; step < 19; step++) {
      h.clock.advance(30_000);
      h.service.tick();
      await settle();
      expect(await h.service.get(paymentsKey)).toEqual(held);
    }
    h.clock.advance(30_000);
    expect(await h.service.get(paymentsKey)).toMatchObject({ kind: "unavailable", code: "ISSUER_UNREACHABLE" });
    expect(h.service.readiness().ready).toBe(false);
    expect(h.metrics.value("tessera_sidecar_refresh_failures_total", { token: "payments", code: "ISSUER_UNREACHABLE" })).toBeGreaterThan(3);
  });

  it("uses the rotated subject token for the next exchange", async () => {
    const h = harness((...a) => issuedFor(600)(...a));
    h.service.start();
    await settle();
    const rotated = fakeJwt(Math.floor(h.clock.ms() / 1000) + 7200, "subject-2");
    h.rotate(rotated);
    h.service.refreshAll();
    await settle();
    expect(h.exchanges.map((e) => e.subject.includes(".") && e.subject === rotated)).toEqual([false, true]);
  });

  it("retries with the subject token's error code when the file is missing", async () => {
    const h = harness((...a) => issuedFor(600)(...a));
    h.rotate(new SidecarError("SUBJECT_TOKEN_MISSING", "subject token file /x does not exist"));
    h.service.start();
    await settle();
    expect(h.exchanges).toHaveLength(0);
    expect(h.timer.ms).toBe(1_000);
    expect(await h.service.get(paymentsKey)).toMatchObject({ kind: "unavailable", code: "SUBJECT_TOKEN_MISSING" });
  });

  it("stops serving, removes its files and stays unready once the pod is gone", async () => {
    const h = harness((...a) => issuedFor(600)(...a));
    h.service.start();
    await settle();
    await h.service.podGone();
    expect(h.service.readiness()).toEqual({ ready: false, missing: [], podGone: true });
    expect(await h.service.get(tokenKey("https://new.example", []))).toMatchObject({ kind: "unavailable", code: "POD_GONE" });
    expect(await h.service.get(paymentsKey)).toMatchObject({ kind: "unavailable", code: "POD_GONE" });
    expect(h.written.has("payments")).toBe(false);
    expect(h.timer.ms).toBeUndefined();
  });

  it("never writes a token or the subject token into its logs", async () => {
    let fail = false;
    const h = harness((...a) =>
      fail ? { kind: "denied", denial: { status: 403, error: { error: "access_denied", error_description: "policy removed", tessera_reason: "no-matching-policy" } } } : issuedFor(600)(...a),
    );
    h.service.start();
    await settle();
    const issuedTokens = [...h.written.values()];
    await h.service.get(tokenKey("https://reports.example", ["x"]));
    h.service.refreshAll();
    await settle();
    fail = true;
    h.service.refreshAll();
    await settle();
    const subject = h.subjectToken() as string;
    const secrets = [...issuedTokens, subject];
    expect(h.lines.length).toBeGreaterThan(3);
    const log = h.lines.join("");
    for (const secret of secrets) {
      // The whole token, and each of its segments (payload and signature), must be absent.
      for (const part of [secret, ...secret.split(".").slice(1)]) expect(log).not.toContain(part);
    }
  });

  it("exposes per-token seconds until expiry, run-time token count and readiness as gauges", async () => {
    const h = harness((...a) => issuedFor(600)(...a));
    h.service.start();
    await settle();
    await h.service.get(tokenKey("https://reports.example", []));
    h.clock.advance(100_000);
    expect(h.service.gauges()).toEqual([
      { name: "tessera_sidecar_token_expiry_seconds", labels: { token: "payments" }, value: 500 },
      { name: "tessera_sidecar_on_demand_tokens", value: 1 },
      { name: "tessera_sidecar_ready", value: 1 },
    ]);
    const text = h.metrics.render(h.service.gauges());
    expect(text).toContain('tessera_sidecar_token_expiry_seconds{token="payments"} 500');
    expect(text).toContain('tessera_sidecar_refreshes_total{token="payments"} 1');
    expect(text).toContain("# TYPE tessera_sidecar_cache_hits_total counter");
  });
});
