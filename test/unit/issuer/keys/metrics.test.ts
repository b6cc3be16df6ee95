// Signing key metrics: when the signing key took over, the rotation period, and the published keys by state.
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { MemoryKeyStore } from "../../../../controller/src/issuer/keys/key-store.ts";
import { signingKeyMetrics } from "../../../../controller/src/issuer/keys/metrics.ts";
import type { RotationSchedule } from "../../../../controller/src/issuer/keys/rotation.ts";
import { SigningKeys } from "../../../../controller/src/issuer/keys/signing-keys.ts";
import { NOW, silentLogger } from "../fixtures.ts";

const HOUR = 3_600_000;
const schedule: RotationSchedule = { algorithm: "ES256", rotationMs: 24 * HOUR, prePublicationMs: HOUR, maxTokenTtlMs: HOUR, reloadMs: 60_000, leewayMs: 0 };

/** The exposition's samples of the three key metrics, one "name{labels} value" line each. */
async function keySamples(registry: Registry): Promise<string[]> {
  return (await registry.metrics()).split("\n").filter((line) => line.startsWith("tessera_signing_key"));
}

describe("signing key metrics", () => {
  it("publish an activation time of 0 before the first key, and the configured rotation period", async () => {
    const registry = new Registry();
    signingKeyMetrics(registry, new SigningKeys({ store: new MemoryKeyStore(), now: () => NOW, logger: silentLogger }), 86_400);
    expect(await keySamples(registry)).toEqual([
      "tessera_signing_key_activated_timestamp_seconds 0",
      "tessera_signing_key_rotation_period_seconds 86400",
      'tessera_signing_keys{state="signing"} 0',
      'tessera_signing_keys{state="pending"} 0',
      'tessera_signing_keys{state="retiring"} 0',
    ]);
  });

  it("follow a rotation: the successor pending, then signing with a new activation time while the old key retires", async () => {
    let now = NOW.getTime();
    const keys = new SigningKeys({ store: new MemoryKeyStore(), now: () => new Date(now), logger: silentLogger });
    const registry = new Registry();
    signingKeyMetrics(registry, keys, 86_400);
    await keys.rotate(schedule);
    await keys.reload();
    const first = NOW.getTime() / 1000;
    expect(await keySamples(registry)).toContain(`tessera_signing_key_activated_timestamp_seconds ${String(first)}`);

    now += 23 * HOUR;
    await keys.rotate(schedule);
    await keys.reload();
    expect(await keySamples(registry)).toEqual(
      expect.arrayContaining([`tessera_signing_key_activated_timestamp_seconds ${String(first)}`, 'tessera_signing_keys{state="pending"} 1']),
    );

    now += HOUR;
    expect(await keySamples(registry)).toEqual(
      expect.arrayContaining([
        `tessera_signing_key_activated_timestamp_seconds ${String(first + 24 * 3600)}`,
        'tessera_signing_keys{state="signing"} 1',
        'tessera_signing_keys{state="pending"} 0',
        'tessera_signing_keys{state="retiring"} 1',
      ]),
    );
  });
});
