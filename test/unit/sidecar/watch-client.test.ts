// Re-issuance channel client: baseline, change -> refresh, 204 -> re-poll, 410 -> stop, errors -> capped backoff.
import { describe, expect, it } from "vitest";
import type { EntitlementChange } from "../../../api/exchange.ts";
import type { Denial, IssuerClient, WatchOutcome } from "../../../sidecar/src/issuer-client.ts";
import { Metrics } from "../../../sidecar/src/metrics.ts";
import type { SubjectTokenSource } from "../../../sidecar/src/subject-token.ts";
import { WatchClient } from "../../../sidecar/src/watch-client.ts";
import { capturedLogger, manualClock } from "./helpers.ts";

function run(outcomes: WatchOutcome[]) {
  const clock = manualClock();
  const polls: Array<{ since: string; subject: string }> = [];
  const changes: Array<{ change: EntitlementChange; requestedBefore: Date | undefined }> = [];
  const gone: Denial[] = [];
  const sleeps: number[] = [];
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const issuer: Pick<IssuerClient, "exchange" | "watch"> = {
    exchange: () => Promise.reject(new Error("not used")),
    watch(subject, since, signal) {
      polls.push({ since, subject });
      const next = outcomes.shift();
      if (next === undefined) {
        // Script exhausted: hold the poll open like the issuer does, until the client stops.
        finish();
        return new Promise<WatchOutcome>((resolve) => {
          signal?.addEventListener("abort", () => {
            resolve({ kind: "unchanged" });
          });
        });
      }
      clock.advance(10);
      return Promise.resolve(next);
    },
  };
  const subject: SubjectTokenSource = { read: () => Promise.resolve({ token: "subject-token", expiresAt: new Date(clock.ms() + 3_600_000) }) };
  const metrics = new Metrics();
  const watch = new WatchClient({
    issuer,
    subject,
    metrics,
    logger: capturedLogger().logger,
    now: clock.now,
    random: () => 0.5,
    sleep: (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
      return Promise.resolve();
    },
    handlers: {
      onChange: (change, requestedBefore) => changes.push({ change, requestedBefore }),
      onGone: (d) => {
        gone.push(d);
        finish();
      },
    },
  });
  watch.start();
  return { done, polls, changes, gone, sleeps, metrics, watch, startMs: clock.ms() };
}

const failed = (code: "ISSUER_UNREACHABLE" | "ISSUER_UNAVAILABLE"): WatchOutcome => ({ kind: "failed", failure: { code, message: "x" } });

describe("WatchClient", () => {
  it("takes the first answer as a baseline and every later change as a refresh of everything", async () => {
    const r = run([
      { kind: "changed", change: { version: "1", reason: "initial" } },
      { kind: "unchanged" },
      { kind: "changed", change: { version: "2", reason: "policy-changed" } },
    ]);
    await r.done;
    expect(r.polls.map((p) => p.since)).toEqual(["", "1", "1", "2"]);
    expect(r.polls.every((p) => p.subject === "subject-token")).toBe(true);
    expect(r.changes).toEqual([
      { change: { version: "1", reason: "initial" }, requestedBefore: new Date(r.startMs) },
      { change: { version: "2", reason: "policy-changed" }, requestedBefore: undefined },
    ]);
    expect(r.watch.version).toBe("2");
    await r.watch.stop();
  });

  it("polls again from scratch, without refreshing, when the issuer no longer knows the pod's version", async () => {
    const r = run([
      { kind: "changed", change: { version: "1", reason: "initial" } },
      { kind: "changed", change: { version: "", reason: "pod-deleted" } },
    ]);
    await r.done;
    expect(r.polls.map((p) => p.since)).toEqual(["", "1", ""]);
    expect(r.changes).toHaveLength(1);
    await r.watch.stop();
  });

  it("re-polls after a 204, pausing only as long as the minimum poll interval requires", async () => {
    const r = run([{ kind: "unchanged" }, { kind: "unchanged" }]);
    await r.done;
    expect(r.sleeps).toEqual([490, 490]);
    await r.watch.stop();
  });

  it("stops and reports the pod gone on 410", async () => {
    const denial: Denial = { status: 410, error: { error: "invalid_grant", error_description: "pod deleted" } };
    const r = run([{ kind: "gone", denial }, { kind: "unchanged" }]);
    await r.done;
    await r.watch.stop();
    expect(r.gone).toEqual([denial]);
    expect(r.polls).toHaveLength(1);
  });

  it("backs off exponentially on errors up to the cap, and resets after a success", async () => {
    const r = run([
      ...Array.from({ length: 7 }, () => failed("ISSUER_UNREACHABLE")),
      { kind: "unchanged" },
      failed("ISSUER_UNAVAILABLE"),
    ]);
    await r.done;
    expect(r.sleeps).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 490, 1_000]);
    expect(r.metrics.value("tessera_sidecar_watch_failures_total", { code: "ISSUER_UNREACHABLE" })).toBe(7);
    await r.watch.stop();
  });
});

describe("WatchClient.nudge", () => {
  it("ends a backoff sleep at once so the channel resumes when the issuer is back", async () => {
    let polls = 0;
    let sleeping!: () => void;
    const asleep = new Promise<void>((resolve) => {
      sleeping = resolve;
    });
    let resumed!: () => void;
    const polledAgain = new Promise<void>((resolve) => {
      resumed = resolve;
    });
    const watch = new WatchClient({
      issuer: {
        exchange: () => Promise.reject(new Error("not used")),
        watch: (_s, _since, signal) => {
          polls += 1;
          if (polls === 1) return Promise.resolve({ kind: "failed", failure: { code: "ISSUER_UNREACHABLE", message: "down" } });
          resumed();
          return new Promise<WatchOutcome>((resolve) => signal?.addEventListener("abort", () => {
            resolve({ kind: "unchanged" });
          }));
        },
      },
      subject: { read: () => Promise.resolve({ token: "s", expiresAt: new Date(Date.now() + 3_600_000) }) },
      metrics: new Metrics(),
      logger: capturedLogger().logger,
      now: () => new Date(),
      random: () => 0.5,
      // A real-length backoff sleep that only an abort can end.
      sleep: (_ms, signal) =>
        new Promise<void>((resolve) => {
          sleeping();
          signal.addEventListener("abort", () => {
            resolve();
          });
        }),
      handlers: { onChange: () => undefined, onGone: () => undefined },
    });
    watch.start();
    await asleep;
    expect(polls).toBe(1);
    watch.nudge();
    await polledAgain;
    expect(polls).toBe(2);
    await watch.stop();
  });
});
