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
