// The cluster JWKS cache: discovery, refetch on an unknown kid, a cooldown on every fetch, stale keys kept through outages up to a limit.
import { describe, expect, it } from "vitest";
import { isIssuerError } from "../../../../controller/src/issuer/errors.ts";
import type { FetchJson } from "../../../../controller/src/issuer/subject/fetch-json.ts";
import { MAX_KEY_SET_STALENESS_MS, RemoteKeySet } from "../../../../controller/src/issuer/subject/remote-key-set.ts";
import { CLUSTER_ISSUER, ecClusterKey, rsaClusterKey, type ClusterKey } from "../fixtures.ts";

function jwk(key: ClusterKey): Record<string, unknown> {
  return { ...key.publicKey.export({ format: "jwk" }), kid: key.kid, use: "sig" };
}

function cluster(initial: ClusterKey[]) {
  const state = { keys: initial, fetches: [] as string[], down: false };
  const fetchJson: FetchJson = (url) => {
    state.fetches.push(url);
    if (state.down) return Promise.reject(new Error("connection refused"));
    if (url === `${CLUSTER_ISSUER}/.well-known/openid-configuration`) {
      return Promise.resolve({ issuer: CLUSTER_ISSUER, jwks_uri: `${CLUSTER_ISSUER}/openid/v1/jwks` });
    }
    return Promise.resolve({ keys: state.keys.map(jwk) });
  };
  return { state, fetchJson };
}

describe("RemoteKeySet", () => {
  it("finds keys through discovery", async () => {
    const a = rsaClusterKey("a");
    const { state, fetchJson } = cluster([a]);
    const set = new RemoteKeySet({ issuer: CLUSTER_ISSUER, fetchJson, now: () => new Date(0) });
    expect(await set.get("a")).toBeDefined();
    expect(state.fetches).toEqual([`${CLUSTER_ISSUER}/.well-known/openid-configuration`, `${CLUSTER_ISSUER}/openid/v1/jwks`]);
  });

  it("uses the configured JWKS URL instead of discovery", async () => {
    const { state, fetchJson } = cluster([rsaClusterKey("a")]);
    const set = new RemoteKeySet({ issuer: CLUSTER_ISSUER, jwksUrl: "https://10.0.0.1/openid/v1/jwks", fetchJson, now: () => new Date(0) });
    await set.get("a");
    expect(state.fetches).toEqual(["https://10.0.0.1/openid/v1/jwks"]);
  });

  it("refetches once for an unknown kid, then waits out the cooldown", async () => {
    let now = 0;
    const { state, fetchJson } = cluster([rsaClusterKey("a")]);
    const set = new RemoteKeySet({ issuer: CLUSTER_ISSUER, jwksUrl: "https://x/jwks", fetchJson, now: () => new Date(now), cooldownMs: 10_000 });
    await set.get("a");
    now = 20_000;
    state.keys = [rsaClusterKey("a"), ecClusterKey("b")];
    expect(await set.get("b")).toBeDefined();
    expect(await set.get("forged-1")).toBeUndefined();
    expect(await set.get("forged-2")).toBeUndefined();
    expect(state.fetches).toHaveLength(2);
    now = 31_000;
    await set.get("forged-3");
    expect(state.fetches).toHaveLength(3);
  });

  it("keeps serving the last key set while the apiserver is unreachable", async () => {
    let now = 0;
    const { state, fetchJson } = cluster([rsaClusterKey("a")]);
    const set = new RemoteKeySet({ issuer: CLUSTER_ISSUER, jwksUrl: "https://x/jwks", fetchJson, now: () => new Date(now), maxAgeMs: 1000 });
    await set.get("a");
    state.down = true;
    now = 5000;
    expect(await set.get("a")).toBeDefined();
  });

  it("refuses a discovery document naming another issuer", async () => {
    const fetchJson: FetchJson = () => Promise.resolve({ issuer: "https://evil", jwks_uri: "https://evil/jwks" });
    const set = new RemoteKeySet({ issuer: CLUSTER_ISSUER, fetchJson, now: () => new Date(0) });
    await expect(set.get("a")).rejects.toSatisfy((e) => isIssuerError(e, "UpstreamUnavailable"));
  });

  it("skips private and symmetric keys in the published set", async () => {
    const a = rsaClusterKey("a");
    const fetchJson: FetchJson = () =>
      Promise.resolve({
        keys: [
          { ...a.privateKey.export({ format: "jwk" }), kid: "a" },
          { kty: "oct", k: "c2VjcmV0", kid: "b" },
        ],
      });
    const set = new RemoteKeySet({ issuer: CLUSTER_ISSUER, jwksUrl: "https://x/jwks", fetchJson, now: () => new Date(0) });
    expect(await set.get("a")).toBeUndefined();
    expect(await set.get("b")).toBeUndefined();
  });

  it("refetches a stale key set at most once per cooldown while the apiserver is unreachable", async () => {
    let now = 0;
    const { state, fetchJson } = cluster([rsaClusterKey("a")]);
    const set = new RemoteKeySet({ issuer: CLUSTER_ISSUER, jwksUrl: "https://x/jwks", fetchJson, now: () => new Date(now), maxAgeMs: 1000, cooldownMs: 10_000 });
    await set.get("a");
    state.down = true;
    now = 60_000;
    for (let i = 0; i < 20; i += 1) {
      expect(await set.get("a")).toBeDefined();
      expect(await set.get(`forged-${i}`)).toBeUndefined();
    }
    expect(state.fetches).toHaveLength(2);
    now = 70_000;
    await set.get("a");
    expect(state.fetches).toHaveLength(3);
  });

  it("retries a failed first load only after the cooldown, refusing with UpstreamUnavailable meanwhile", async () => {
    let now = 0;
    const { state, fetchJson } = cluster([rsaClusterKey("a")]);
    state.down = true;
    const set = new RemoteKeySet({ issuer: CLUSTER_ISSUER, jwksUrl: "https://x/jwks", fetchJson, now: () => new Date(now), cooldownMs: 10_000 });
    for (let i = 0; i < 5; i += 1) {
      await expect(set.get("a")).rejects.toSatisfy((e) => isIssuerError(e, "UpstreamUnavailable") && /connection refused/.test(e.message));
    }
    expect(state.fetches).toHaveLength(1);
    state.down = false;
    now = 10_000;
    expect(await set.get("a")).toBeDefined();
    expect(state.fetches).toHaveLength(2);
  });

  it("fails closed once the key set is older than the maximum staleness, and recovers with the next fetch", async () => {
    let now = 0;
    const { state, fetchJson } = cluster([rsaClusterKey("a")]);
    const set = new RemoteKeySet({ issuer: CLUSTER_ISSUER, jwksUrl: "https://x/jwks", fetchJson, now: () => new Date(now), maxStalenessMs: 3_600_000 });
    await set.get("a");
    state.down = true;
    now = 3_600_000;
    expect(await set.get("a")).toBeDefined();
    now = 3_600_001;
    await expect(set.get("a")).rejects.toSatisfy(
      (e) => isIssuerError(e, "UpstreamUnavailable") && e.oauthError === "temporarily_unavailable" && /last fetched 3600 s ago/.test(e.message),
    );
    state.down = false;
    now = 3_700_000;
    expect(await set.get("a")).toBeDefined();
  });

  it("fails closed after 24 hours by default", async () => {
    let now = 0;
    const { state, fetchJson } = cluster([rsaClusterKey("a")]);
    const set = new RemoteKeySet({ issuer: CLUSTER_ISSUER, jwksUrl: "https://x/jwks", fetchJson, now: () => new Date(now) });
    await set.get("a");
    state.down = true;
    now = MAX_KEY_SET_STALENESS_MS;
    expect(await set.get("a")).toBeDefined();
    now = MAX_KEY_SET_STALENESS_MS + 1;
    await expect(set.get("a")).rejects.toSatisfy((e) => isIssuerError(e, "UpstreamUnavailable"));
    expect(MAX_KEY_SET_STALENESS_MS).toBe(24 * 3600 * 1000);
  });

  it("refuses a maximum staleness below the refresh age", () => {
    const { fetchJson } = cluster([]);
    expect(() => new RemoteKeySet({ issuer: CLUSTER_ISSUER, fetchJson, now: () => new Date(0), maxAgeMs: 2000, maxStalenessMs: 1000 })).toThrow(TypeError);
  });
});
