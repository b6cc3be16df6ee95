// Denial Events: a token bucket per (pod, reason) on an injected clock; sink failures are logged, never thrown.

import { describe, expect, it } from "vitest";
import { DenialEventRecorder, type DenialEvent, type EventSink } from "../../../../controller/src/issuer/record/denial-events.ts";
import { KeyedTokenBucket } from "../../../../controller/src/issuer/record/denial-event-limiter.ts";
import { captureLogger } from "../capture-logger.ts";
import { allowed, denied, jwtShaped } from "../decision-fixtures.ts";

function clock(start = Date.parse("2026-11-23T01:00:00Z")): { now: () => Date; advance: (seconds: number) => void } {
  let ms = start;
  return { now: () => new Date(ms), advance: (seconds) => (ms += seconds * 1000) };
}

class MemorySink implements EventSink {
  readonly events: DenialEvent[] = [];
  fail = false;
  emit(event: DenialEvent): Promise<void> {
    if (this.fail) return Promise.reject(new Error("apiserver said no"));
    this.events.push(event);
    return Promise.resolve();
  }
}

describe("keyed token bucket", () => {
  it.each([
    ["the first take of a key", [0], [true]],
    ["an immediate second take", [0, 0], [true, false]],
    ["a take after a full refill", [0, 300], [true, true]],
    ["a take just before the refill", [0, 299], [true, false]],
    ["many takes within the interval", [0, 10, 10, 10, 10], [true, false, false, false, false]],
  ])("answers %s", (_name, steps, expected) => {
    const c = clock();
    const bucket = new KeyedTokenBucket({ burst: 1, refillSeconds: 300, maxKeys: 10, now: c.now });
    const got = steps.map((seconds) => {
      c.advance(seconds);
      return bucket.take("pod/Reason");
    });
    expect(got).toEqual(expected);
  });

  it("lets a burst through, then one per refill interval", () => {
    const c = clock();
    const bucket = new KeyedTokenBucket({ burst: 3, refillSeconds: 10, maxKeys: 10, now: c.now });
    expect([bucket.take("k"), bucket.take("k"), bucket.take("k"), bucket.take("k")]).toEqual([true, true, true, false]);
    c.advance(10);
    expect([bucket.take("k"), bucket.take("k")]).toEqual([true, false]);
  });

  it("keeps keys independent", () => {
    const bucket = new KeyedTokenBucket({ burst: 1, refillSeconds: 60, maxKeys: 10, now: clock().now });
    expect([bucket.take("a"), bucket.take("b"), bucket.take("a")]).toEqual([true, true, false]);
  });

  it("forgets the least recently used key beyond maxKeys", () => {
    const bucket = new KeyedTokenBucket({ burst: 1, refillSeconds: 60, maxKeys: 2, now: clock().now });
    bucket.take("a");
    bucket.take("b");
    bucket.take("c");
    expect(bucket.size).toBe(2);
    expect(bucket.take("a")).toBe(true);
  });

  it("refuses nonsense options", () => {
    expect(() => new KeyedTokenBucket({ burst: 0, refillSeconds: 1, maxKeys: 1, now: clock().now })).toThrow(TypeError);
  });
});

describe("denial event recorder", () => {
  it("writes one Event for a storm of identical denials and another after the interval", async () => {
    const c = clock();
    const sink = new MemorySink();
    const recorder = new DenialEventRecorder({ sink, logger: captureLogger().logger, now: c.now });
    for (let i = 0; i < 50; i += 1) recorder.record(denied);
    await recorder.flush();
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toMatchObject({ namespace: "payments", podName: "api-7d9f", reason: "ScopeNotAllowed" });
    c.advance(301);
    recorder.record(denied);
    await recorder.flush();
    expect(sink.events).toHaveLength(2);
  });

  it("writes a separate Event for a different reason on the same pod", async () => {
    const sink = new MemorySink();
    const recorder = new DenialEventRecorder({ sink, logger: captureLogger().logger, now: clock().now });
    recorder.record(denied);
    recorder.record({ ...denied, reason: "AudienceNotAllowed" });
    await recorder.flush();
    expect(sink.events.map((e) => e.reason)).toEqual(["ScopeNotAllowed", "AudienceNotAllowed"]);
  });

  it("writes nothing for an allowed decision", async () => {
    const sink = new MemorySink();
    const recorder = new DenialEventRecorder({ sink, logger: captureLogger().logger, now: clock().now });
    recorder.record(allowed);
    await recorder.flush();
    expect(sink.events).toEqual([]);
  });

  it("logs a failed write instead of throwing", async () => {
    const sink = new MemorySink();
    sink.fail = true;
    const captured = captureLogger();
    const recorder = new DenialEventRecorder({ sink, logger: captured.logger, now: clock().now });
    expect(() => {
      recorder.record(denied);
    }).not.toThrow();
    await recorder.flush();
    expect(captured.lines()[0]).toMatchObject({ msg: "denial event not written", reason: "ScopeNotAllowed", err: "apiserver said no" });
  });

  it("redacts a token that found its way into the denial message", async () => {
    const sink = new MemorySink();
    const recorder = new DenialEventRecorder({ sink, logger: captureLogger().logger, now: clock().now });
    recorder.record({ ...denied, message: `bad ${jwtShaped}` });
    await recorder.flush();
    expect(sink.events[0]?.message).not.toContain("eyJ");
  });
});
