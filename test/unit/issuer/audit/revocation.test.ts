// The revocation store refuses to answer before its first load and once its copy is stale: "cannot tell" is never "active".

import type { CoreV1Api } from "@kubernetes/client-node";
import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { isAuditEndpointError } from "../../../../controller/src/issuer/audit/errors.ts";
import { RevocationStore } from "../../../../controller/src/issuer/audit/revocation.ts";
import { captureLogger } from "../capture-logger.ts";

function coreAnswering(answer: () => Promise<unknown>): CoreV1Api {
  return { readNamespacedConfigMap: answer } as unknown as CoreV1Api;
}

/** A CoreV1Api holding one ConfigMap in memory, with resourceVersion checks like the apiserver's. */
interface PlainConfigMap {
  metadata?: { resourceVersion?: string };
  data?: Record<string, string>;
}

function configMapCore(): { core: CoreV1Api; data: () => Record<string, string> | undefined } {
  let stored: PlainConfigMap | undefined;
  let version = 0;
  const copy = (cm: PlainConfigMap): PlainConfigMap => JSON.parse(JSON.stringify(cm)) as PlainConfigMap;
  const store = (body: PlainConfigMap): PlainConfigMap => {
    const next = copy(body);
    next.metadata = { resourceVersion: String(++version) };
    stored = next;
    return copy(next);
  };
  const core = {
    readNamespacedConfigMap: () =>
      stored === undefined ? Promise.reject(new ApiException(404, "not found", {}, {})) : Promise.resolve(copy(stored)),
    createNamespacedConfigMap: ({ body }: { body: PlainConfigMap }) => Promise.resolve(store(body)),
    replaceNamespacedConfigMap: ({ body }: { body: PlainConfigMap }) =>
      body.metadata?.resourceVersion === stored?.metadata?.resourceVersion
        ? Promise.resolve(store(body))
        : Promise.reject(new ApiException(409, "conflict", {}, {})),
  } as unknown as CoreV1Api;
  return { core, data: () => stored?.data };
}

describe("revocations per caller", () => {
  const start = Date.parse("2026-11-23T01:00:00Z");
  const nowSeconds = start / 1000;

  function storeOn(core: CoreV1Api, clock: { ms: number }) {
    return new RevocationStore({
      core,
      namespace: "tessera-system",
      logger: captureLogger().logger,
      now: () => new Date(clock.ms),
      maxEntries: 100,
      maxEntriesPerCaller: 2,
    });
  }

  async function refusal(action: Promise<unknown>): Promise<{ code?: string; retryAfterSeconds?: number }> {
    try {
      await action;
    } catch (error) {
      return error as { code?: string; retryAfterSeconds?: number };
    }
    return {};
  }

  it("refuses a caller over its share while others still revoke, and repeats of a listed jti cost nothing", async () => {
    const { core } = configMapCore();
    const clock = { ms: start };
    const store = storeOn(core, clock);
    await store.revoke("a1", nowSeconds + 600, "ops/noisy");
    await store.revoke("a2", nowSeconds + 300, "ops/noisy");
    await store.revoke("a2", nowSeconds + 300, "ops/noisy");
    expect(await refusal(store.revoke("a3", nowSeconds + 600, "ops/noisy"))).toMatchObject({
      code: "RevocationQuotaExceeded",
      retryAfterSeconds: 300,
    });
    await store.revoke("b1", nowSeconds + 600, "sec/responder");
    expect([store.isRevoked("a1"), store.isRevoked("a2"), store.isRevoked("a3"), store.isRevoked("b1")]).toEqual([true, true, false, true]);
  });

  it("gives the share back once the caller's revoked tokens expire", async () => {
    const { core } = configMapCore();
    const clock = { ms: start };
    const store = storeOn(core, clock);
    await store.revoke("a1", nowSeconds + 60, "ops/noisy");
    await store.revoke("a2", nowSeconds + 60, "ops/noisy");
    clock.ms += 61_000;
    await store.revoke("a3", nowSeconds + 600, "ops/noisy");
    expect(store.isRevoked("a3")).toBe(true);
  });

  it("keeps the counts where every replica, old or new, reads only jti entries", async () => {
    const { core, data } = configMapCore();
    const clock = { ms: start };
    const store = storeOn(core, clock);
    await store.revoke("a1", nowSeconds + 60, "ops/noisy");
    const written = data() ?? {};
    expect(Object.keys(written).sort()).toEqual(["a1", "tessera.revocations-by-caller"]);
    const replica = storeOn(core, clock);
    await replica.reload();
    expect(replica.size).toBe(1);
    expect(await refusal(replica.revoke("tessera.revocations-by-caller", nowSeconds + 60, "ops/noisy"))).toMatchObject({ code: "InvalidRequest" });
  });
});

describe("revocation store freshness", () => {
  it("refuses before the first load, answers after it, refuses again once stale", async () => {
    let ms = Date.parse("2026-11-23T01:00:00Z");
    const data = { revoked: String(Math.floor(ms / 1000) + 600) };
    const store = new RevocationStore({
      core: coreAnswering(() => Promise.resolve({ data })),
      namespace: "tessera-system",
      logger: captureLogger().logger,
      now: () => new Date(ms),
      maxStalenessSeconds: 60,
    });
    expect(() => store.isRevoked("revoked")).toThrow(expect.objectContaining({ code: "RevocationStoreUnavailable" }));
    await store.reload();
    expect([store.isRevoked("revoked"), store.isRevoked("other")]).toEqual([true, false]);
    ms += 61_000;
    try {
      store.isRevoked("revoked");
      expect.unreachable();
    } catch (error) {
      expect(isAuditEndpointError(error, "RevocationStoreUnavailable")).toBe(true);
    }
  });

  it("treats a missing ConfigMap as an empty list", async () => {
    const store = new RevocationStore({
      core: coreAnswering(() => Promise.reject(new ApiException(404, "not found", {}, {}))),
      namespace: "tessera-system",
      logger: captureLogger().logger,
      now: () => new Date(0),
    });
    await store.reload();
    expect(store.isRevoked("anything")).toBe(false);
  });
});
