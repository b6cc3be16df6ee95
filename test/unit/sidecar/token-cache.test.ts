// Token cache state machine: refresh timing and spread, backoff growth and cap, serve-until-exp, re-issuance, LRU.
import { describe, expect, it } from "vitest";
import { backoffDelayMs } from "../../../sidecar/src/backoff.ts";
import type { Denial, IssuedToken } from "../../../sidecar/src/issuer-client.ts";
import { DEFAULT_CACHE_POLICY, TokenCache } from "../../../sidecar/src/token-cache.ts";
import { tokenKey } from "../../../sidecar/src/token-key.ts";
import { fakeJwt, manualClock, seededRandom } from "./helpers.ts";

const payments = { name: "payments", audience: "https://payments.example", scopes: ["write", "read"] } as const;
const paymentsKey = tokenKey(payments.audience, payments.scopes);
const denial: Denial = {
  status: 403,
  error: { error: "access_denied", error_description: "no policy grants this audience", tessera_reason: "no-matching-policy" },
};

function issued(clockMs: number, lifetimeS: number, marker = "t"): IssuedToken {
  return {
    accessToken: fakeJwt(Math.floor(clockMs / 1000) + lifetimeS, marker),
    issuedTokenType: "urn:ietf:params:oauth:token-type:access_token",
    tokenType: "Bearer",
    expiresInSeconds: lifetimeS,
    scope: undefined,
  };
}

function cacheWith(random: () => number = () => 0.5, clock = manualClock()) {
  const cache = new TokenCache({ tokens: [payments], now: clock.now, random });
  return { cache, clock };
}

describe("TokenCache", () => {
  it("keys a token by audience and sorted, de-duplicated scopes", () => {
    const { cache } = cacheWith();
    expect(cache.keyForName("payments")).toEqual(tokenKey("https://payments.example", ["read", "write", "read"]));
    expect(cache.lookup(tokenKey(payments.audience, ["read", "write"])).state).toBe("missing");
  });

  it("makes configured tokens due at once and unready until held", () => {
    const { cache } = cacheWith();
    expect(cache.due()).toEqual([paymentsKey]);
    expect(cache.readiness()).toEqual({ ready: false, missing: ["payments"] });
  });

  it("refreshes at half the lifetime when the jitter draw is neutral", () => {
    const { cache, clock } = cacheWith(() => 0.5);
    cache.begin(paymentsKey);
    cache.succeeded(paymentsKey, issued(clock.ms(), 600));
    expect(cache.readiness().ready).toBe(true);
    expect(cache.nextWakeAt()?.getTime()).toBe(clock.ms() + 300_000);
    clock.advance(299_999);
    expect(cache.due()).toEqual([]);
    clock.advance(1);
    expect(cache.due()).toEqual([paymentsKey]);
  });

  it.each([
    ["lowest", 0, 270_000],
    ["highest", 0.999999, 330_000],
  ])("keeps the %s jitter draw within a tenth of the half-life", (_case, draw, expectedMs) => {
    const { cache, clock } = cacheWith(() => draw);
    cache.begin(paymentsKey);
    cache.succeeded(paymentsKey, issued(clock.ms(), 600));
    expect(Math.abs((cache.nextWakeAt()?.getTime() ?? 0) - clock.ms() - expectedMs)).toBeLessThan(2);
  });

  it("spreads the refreshes of 1,000 pods started together instead of spiking", () => {
    const random = seededRandom(42);
    const clock = manualClock();
    const offsets: number[] = [];
    for (let pod = 0; pod < 1000; pod++) {
      const cache = new TokenCache({ tokens: [payments], now: clock.now, random });
      cache.begin(paymentsKey);
      cache.succeeded(paymentsKey, issued(clock.ms(), 600, `pod-${pod}`));
      offsets.push((cache.nextWakeAt()?.getTime() ?? 0) - clock.ms());
    }
    // Every refresh lands in [270 s, 330 s]; bucket by second: no second holds more than 4% of the pods
    // and at least 55 of the 61 seconds see a refresh.
    expect(Math.min(...offsets)).toBeGreaterThanOrEqual(270_000);
    expect(Math.max(...offsets)).toBeLessThanOrEqual(330_000);
    const buckets = new Map<number, number>();
    for (const o of offsets) buckets.set(Math.floor(o / 1000), (buckets.get(Math.floor(o / 1000)) ?? 0) + 1);
    expect(Math.max(...buckets.values())).toBeLessThanOrEqual(40);
    expect(buckets.size).toBeGreaterThanOrEqual(55);
    const mean = offsets.reduce((a, b) => a + b, 0) / offsets.length;
    const sd = Math.sqrt(offsets.reduce((a, b) => a + (b - mean) ** 2, 0) / offsets.length);
    expect(Math.abs(mean - 300_000)).toBeLessThan(3_000);
    expect(sd).toBeGreaterThan(15_000);
  });

  it("uses the token's own exp when it ends before expires_in says", () => {
    const { cache, clock } = cacheWith();
    cache.begin(paymentsKey);
    const token = { ...issued(clock.ms(), 60), expiresInSeconds: 600 };
    const held = cache.succeeded(paymentsKey, token);
    expect(held?.expiresAt.getTime()).toBe(Math.floor(clock.ms() / 1000) * 1000 + 60_000);
  });

  it("grows the retry delay exponentially up to the cap", () => {
    const { cache, clock } = cacheWith(() => 0.5);
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      expect(cache.begin(paymentsKey)).toBe(true);
      cache.failed(paymentsKey, "ISSUER_UNREACHABLE", "connect ECONNREFUSED");
      const next = cache.nextWakeAt()?.getTime() ?? 0;
      delays.push(next - clock.ms());
      clock.set(next);
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000]);
  });

  it("jitters backoff delays without ever exceeding the cap", () => {
    const random = seededRandom(7);
    const policy = DEFAULT_CACHE_POLICY.backoff;
    for (let failures = 1; failures <= 12; failures++) {
      const nominal = Math.min(policy.capMs, policy.baseMs * 2 ** (failures - 1));
      for (let i = 0; i < 200; i++) {
        const d = backoffDelayMs(policy, failures, random);
        expect(d).toBeGreaterThanOrEqual(Math.floor(nominal * 0.8));
        expect(d).toBeLessThanOrEqual(Math.min(policy.capMs, Math.ceil(nominal * 1.2)));
      }
    }
    const spread = new Set(Array.from({ length: 100 }, () => backoffDelayMs(policy, 3, random)));
    expect(spread.size).toBeGreaterThan(50);
  });

  it("serves the held token through failed refreshes until its exp, then reports it missing and unready", () => {
    const { cache, clock } = cacheWith(() => 0.5);
    cache.begin(paymentsKey);
    const held = cache.succeeded(paymentsKey, issued(clock.ms(), 600));
    const expiresAt = held?.expiresAt.getTime() ?? 0;
    while (clock.ms() < expiresAt - 1) {
      clock.set(Math.min(cache.nextWakeAt()?.getTime() ?? 0, expiresAt - 1));
      const lookup = cache.lookup(paymentsKey);
      expect(lookup).toEqual({ state: "fresh", token: held });
      expect(cache.readiness().ready).toBe(true);
      for (const key of cache.due()) {
        cache.begin(key);
        cache.failed(key, "ISSUER_TIMEOUT", "no complete response within 10000 ms");
      }
    }
    clock.set(expiresAt);
    const after = cache.lookup(paymentsKey);
    expect(after.state).toBe("missing");
    expect(after.state === "missing" && after.lastError).toEqual({
      kind: "failed",
      code: "ISSUER_TIMEOUT",
      message: "no complete response within 10000 ms",
    });
    expect(cache.readiness()).toEqual({ ready: false, missing: ["payments"] });
  });

  it("recovers on its own when the issuer answers again", () => {
    const { cache, clock } = cacheWith(() => 0.5);
    cache.begin(paymentsKey);
    cache.failed(paymentsKey, "ISSUER_UNREACHABLE", "down");
    clock.set(cache.nextWakeAt()?.getTime() ?? 0);
    expect(cache.due()).toEqual([paymentsKey]);
    cache.begin(paymentsKey);
    cache.succeeded(paymentsKey, issued(clock.ms(), 600));
    expect(cache.readiness().ready).toBe(true);
    expect(cache.entries()[0]?.failures).toBe(0);
  });

  it("drops the held token at once when the issuer denies a refresh", () => {
    const { cache, clock } = cacheWith();
    cache.begin(paymentsKey);
    cache.succeeded(paymentsKey, issued(clock.ms(), 600));
    clock.advance(300_000);
    cache.begin(paymentsKey);
    cache.denied(paymentsKey, denial);
    expect(cache.lookup(paymentsKey)).toEqual({ state: "missing", due: false, inFlight: false, lastError: { kind: "denied", denial } });
    expect(cache.readiness().ready).toBe(false);
  });

  it("refreshes every held token at once on a re-issuance notice, forgetting backoff", () => {
    const { cache, clock } = cacheWith();
    cache.begin(paymentsKey);
    cache.succeeded(paymentsKey, issued(clock.ms(), 600));
    clock.advance(10_000);
    expect(cache.due()).toEqual([]);
    expect(cache.refreshAll()).toBe(1);
    expect(cache.due()).toEqual([paymentsKey]);
  });

  it("repeats an exchange that was in flight when the notice came", () => {
    const { cache, clock } = cacheWith();
    cache.begin(paymentsKey);
    cache.refreshAll();
    clock.advance(100);
    cache.succeeded(paymentsKey, issued(clock.ms(), 600));
    expect(cache.due()).toEqual([paymentsKey]);
  });

  it("skips tokens requested after the baseline poll was sent", () => {
    const { cache, clock } = cacheWith();
    const pollSentAt = clock.now();
    clock.advance(5);
    cache.begin(paymentsKey);
    clock.advance(50);
    cache.succeeded(paymentsKey, issued(clock.ms(), 600));
    expect(cache.refreshAll(pollSentAt)).toBe(0);
    expect(cache.due()).toEqual([]);
  });

  it("keeps at most the configured number of run-time tokens, evicting the least recently used", () => {
    const clock = manualClock();
    const cache = new TokenCache({ tokens: [payments], now: clock.now, random: () => 0.5, policy: { maxOnDemand: 2 } });
    const a = tokenKey("a", []);
    const b = tokenKey("b", []);
    const c = tokenKey("c", []);
    cache.ensure(a);
    clock.advance(1);
    cache.ensure(b);
    clock.advance(1);
    cache.lookup(a);
    clock.advance(1);
    cache.ensure(c);
    expect(cache.lookup(a).state).toBe("missing");
    expect(cache.lookup(b).state).toBe("unknown");
    expect(cache.lookup(c).state).toBe("missing");
    expect(cache.lookup(paymentsKey).state).toBe("missing");
  });

  it("drops an idle run-time token instead of refreshing it, and never counts run-time tokens for readiness", () => {
    const clock = manualClock();
    const cache = new TokenCache({ tokens: [], now: clock.now, random: () => 0.5 });
    const k = tokenKey("reports", ["read"]);
    cache.ensure(k);
    cache.begin(k);
    cache.succeeded(k, issued(clock.ms(), 3600));
    expect(cache.readiness()).toEqual({ ready: true, missing: [] });
    // Nobody asked for it since; at its refresh point (30 min, past the 10 min idle limit) it is dropped.
    clock.set(cache.nextWakeAt()?.getTime() ?? 0);
    expect(clock.ms()).toBeGreaterThan(DEFAULT_CACHE_POLICY.onDemandIdleMs);
    expect(cache.due()).toEqual([]);
    expect(cache.lookup(k).state).toBe("unknown");
  });

  it("does not retry a denied run-time token in the background", () => {
    const clock = manualClock();
    const cache = new TokenCache({ tokens: [], now: clock.now, random: () => 0.5 });
    const k = tokenKey("unknown-audience", []);
    cache.ensure(k);
    cache.begin(k);
    cache.denied(k, denial);
    clock.advance(3_600_000);
    expect(cache.due()).toEqual([]);
    expect(cache.nextWakeAt()).toBeUndefined();
  });

  it("shares one entry between two configured names for the same audience and scopes", () => {
    const clock = manualClock();
    const cache = new TokenCache({
      tokens: [payments, { name: "payments-copy", audience: payments.audience, scopes: ["read", "write"] }],
      now: clock.now,
      random: () => 0.5,
    });
    expect(cache.namesFor(paymentsKey)).toEqual(["payments", "payments-copy"]);
    expect(cache.readiness().missing).toEqual(["payments", "payments-copy"]);
  });
});
