// Every replica's key view: the leader writes the rotated set, followers load it, conflicts are retried next tick.
import { describe, expect, it } from "vitest";
import { isIssuerError } from "../../../../controller/src/issuer/errors.ts";
import { MemoryKeyStore } from "../../../../controller/src/issuer/keys/key-store.ts";
import type { RotationSchedule } from "../../../../controller/src/issuer/keys/rotation.ts";
import { SigningKeys } from "../../../../controller/src/issuer/keys/signing-keys.ts";
import { NOW, silentLogger } from "../fixtures.ts";

const HOUR = 3_600_000;
const schedule: RotationSchedule = {
  algorithm: "ES256",
  rotationMs: 24 * HOUR,
  prePublicationMs: HOUR,
  maxTokenTtlMs: HOUR,
  reloadMs: 60_000,
  leewayMs: 0,
};

describe("SigningKeys", () => {
  it("has no signing key before the first load", () => {
    const keys = new SigningKeys({ store: new MemoryKeyStore(), now: () => NOW, logger: silentLogger });
    expect(keys.ready).toBe(false);
    expect(() => keys.current()).toThrow(expect.toSatisfy((e) => isIssuerError(e, "KeysUnavailable")));
  });

  it("lets a follower sign with the key the leader generated, and publish the successor before it signs", async () => {
    let now = NOW.getTime();
    const store = new MemoryKeyStore();
    const leader = new SigningKeys({ store, now: () => new Date(now), logger: silentLogger });
    const follower = new SigningKeys({ store, now: () => new Date(now), logger: silentLogger });
    expect(await leader.rotate(schedule)).toBe(true);
    await follower.reload();
    const first = follower.current().kid;
    expect(follower.jwks().keys.map((k) => k.kid)).toEqual([first]);

    now += 24 * HOUR - HOUR;
    expect(await leader.rotate(schedule)).toBe(true);
    await follower.reload();
    expect(follower.jwks().keys).toHaveLength(2);
    expect(follower.current().kid).toBe(first);

    now += HOUR;
    const second = follower.current().kid;
    expect(second).not.toBe(first);
    expect(follower.verificationKey(first)).toBeDefined();

    now += HOUR + 60_000;
    await leader.rotate(schedule);
    await follower.reload();
    expect(follower.jwks().keys.map((k) => k.kid)).toEqual([second]);
  });

  it("loses a write race without damage and converges on the next tick", async () => {
    const store = new MemoryKeyStore();
    const a = new SigningKeys({ store, now: () => NOW, logger: silentLogger });
    const b = new SigningKeys({ store, now: () => NOW, logger: silentLogger });
    const results = await Promise.all([a.rotate(schedule), b.rotate(schedule)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    await a.reload();
    expect(a.jwks().keys).toHaveLength(1);
    expect(await b.rotate(schedule)).toBe(false);
  });
});
