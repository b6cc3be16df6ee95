// Signing keys in a real Secret: optimistic concurrency, and replicas that share the key set the leader writes.
import { afterAll, describe, expect, it } from "vitest";
import { LABEL_MANAGED_BY, SECRET_SIGNING_KEYS } from "../../../api/constants.ts";
import { isIssuerError } from "../../../controller/src/issuer/errors.ts";
import { SecretKeyStore } from "../../../controller/src/issuer/keys/key-store.ts";
import { generateKeyRecord } from "../../../controller/src/issuer/keys/keys.ts";
import type { RotationSchedule } from "../../../controller/src/issuer/keys/rotation.ts";
import { SigningKeys } from "../../../controller/src/issuer/keys/signing-keys.ts";
import { freshNamespace, kubeClients } from "../support/index.ts";
import { pino } from "pino";
import { call, startTestIssuer, type TestIssuer } from "./exchange-harness.ts";

const logger = pino({ level: "silent" });
const HOUR = 3_600_000;

describe("SecretKeyStore", () => {
  it("creates the Secret, then refuses a write based on a stale resourceVersion", async () => {
    const { core } = kubeClients();
    const ns = await freshNamespace("keys");
    const store = new SecretKeyStore(core, ns);
    expect(await store.load()).toEqual({ records: [] });
    const now = new Date();
    const a = generateKeyRecord("ES256", now, now);
    await store.save([a], undefined);
    const loaded = await store.load();
    expect(loaded.records).toEqual([a]);
    const secret = await core.readNamespacedSecret({ namespace: ns, name: SECRET_SIGNING_KEYS });
    expect(secret.metadata?.labels?.[LABEL_MANAGED_BY]).toBe("tessera");

    await store.save([a, generateKeyRecord("ES256", now, now)], loaded.version);
    await expect(store.save([a], loaded.version)).rejects.toSatisfy((e) => isIssuerError(e, "KeyStoreConflict"));
    await expect(store.save([a], undefined)).rejects.toSatisfy((e) => isIssuerError(e, "KeyStoreConflict"));
    expect((await store.load()).records).toHaveLength(2);
  });

  it("lets exactly one of two racing leaders create the first key", async () => {
    const { core } = kubeClients();
    const ns = await freshNamespace("keys-race");
    const schedule: RotationSchedule = {
      algorithm: "ES256",
      rotationMs: 24 * HOUR,
      prePublicationMs: HOUR,
      maxTokenTtlMs: HOUR,
      reloadMs: 60_000,
      leewayMs: 0,
    };
    const replicas = [0, 1].map(() => new SigningKeys({ store: new SecretKeyStore(core, ns), now: () => new Date(), logger }));
    const wrote = await Promise.all(replicas.map((r) => r.rotate(schedule)));
    expect(wrote.filter(Boolean)).toHaveLength(1);
    await Promise.all(replicas.map((r) => r.reload()));
    expect(replicas[0]?.current().kid).toBe(replicas[1]?.current().kid);
  });
});

describe("issuer replicas sharing signing keys", () => {
  const started: TestIssuer[] = [];

  afterAll(async () => {
    await Promise.all(started.map((i) => i.stop()));
  });

  it("serves the leader's keys from a follower's JWKS", async () => {
    const leader = await startTestIssuer({ policies: [] });
    started.push(leader);
    const follower = await startTestIssuer({ policies: [], namespace: leader.namespace, isLeader: false });
    started.push(follower);
    const fromLeader = (await call(leader, "/.well-known/jwks.json")).body as { keys: { kid: string }[] };
    const fromFollower = (await call(follower, "/.well-known/jwks.json")).body as { keys: { kid: string }[] };
    expect(fromLeader.keys.map((k) => k.kid)).toHaveLength(1);
    expect(fromFollower.keys.map((k) => k.kid)).toEqual(fromLeader.keys.map((k) => k.kid));
    expect((await call(follower, "/readyz")).status).toBe(200);
  });

  it("keeps a follower unready until the leader has written a key", async () => {
    const follower = await startTestIssuer({ policies: [], isLeader: false });
    started.push(follower);
    expect((await call(follower, "/readyz")).status).toBe(503);
    expect((await call(follower, "/healthz")).status).toBe(200);
  });
});
