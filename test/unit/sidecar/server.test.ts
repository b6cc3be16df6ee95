// Local endpoint: guard header, Host check, token JSON, denial passthrough, no-store, health, readiness, metrics, socket.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SIDECAR_GUARD_HEADER } from "../../../api/constants.ts";
import { accessTokenHash } from "../../../api/dpop.ts";
import { generateDpopSigner } from "../../../sidecar/src/dpop-key.ts";
import type { LocalApi, LocalServers } from "../../../sidecar/src/server.ts";
import { startLocalServers } from "../../../sidecar/src/server.ts";
import type { TokenKey } from "../../../sidecar/src/token-key.ts";
import { tokenKey } from "../../../sidecar/src/token-key.ts";
import type { TokenResult } from "../../../sidecar/src/token-service.ts";
import type { ActRequest, DelegationRequest } from "../../../sidecar/src/delegation-request.ts";
import { capturedLogger, manualClock, rawGet } from "./helpers.ts";

const clock = manualClock();
const asked: TokenKey[] = [];
let ready = { ready: true, missing: [] as string[], podGone: false };

const held = (accessToken: string, lifetimeMs = 299_500): TokenResult => ({
  kind: "token",
  token: {
    accessToken,
    issuedTokenType: "urn:ietf:params:oauth:token-type:access_token",
    tokenType: "Bearer",
    scope: undefined,
    requestedAt: clock.now(),
    receivedAt: clock.now(),
    expiresAt: new Date(clock.ms() + lifetimeMs),
  },
});

/** Held for the whole file, so its expires_in follows the clock. */
const heldSync = held("held-token", 600_000);

const signer = generateDpopSigner({ now: clock.now });
const delegations: DelegationRequest[] = [];
const acts: ActRequest[] = [];

const api: LocalApi = {
  get(key) {
    asked.push(key);
    switch (key.audience) {
      case "https://held.example":
        // As the token service answers a held token: at once, not in a promise.
        return heldSync;
      case "https://payments.example":
        return Promise.resolve(held("payments-token"));
      case "https://denied.example":
        return Promise.resolve({
          kind: "denied",
          denial: {
            status: 403,
            error: { error: "access_denied", error_description: "no policy grants this audience", tessera_reason: "no-matching-policy", tessera_decision_id: "d-9" },
          },
        });
      case "https://bad-target.example":
        return Promise.resolve({ kind: "denied", denial: { status: 400, error: { error: "invalid_target", error_description: "unknown audience" } } });
      case "https://boom.example":
        return Promise.reject(new Error("unexpected"));
      default:
        return Promise.resolve({ kind: "unavailable", code: "ISSUER_UNREACHABLE", message: "issuer unreachable: connect ECONNREFUSED" });
    }
  },
  keyForName: (name) => (name === "payments" ? tokenKey("https://payments.example", ["read"]) : undefined),
  readiness: () => ready,
  metricsText: () => "tessera_sidecar_ready 1\n",
  proof: (request) => signer.proof(request),
  delegate: (request) => {
    delegations.push(request);
    return Promise.resolve(
      request.actor.endsWith(":stranger")
        ? { kind: "denied", denial: { status: 403, error: { error: "access_denied", error_description: "not allowed to act", tessera_reason: "DelegationNotAllowed" } } }
        : { kind: "issued", token: { accessToken: "grant-token", issuedTokenType: "urn:ietf:params:oauth:token-type:access_token", tokenType: "Bearer", expiresInSeconds: 300, scope: request.scopes.join(" ") } },
    );
  },
  act: (request) => {
    acts.push(request);
    return Promise.resolve({ kind: "issued", token: { accessToken: "acting-token", issuedTokenType: "urn:ietf:params:oauth:token-type:access_token", tokenType: "DPoP", expiresInSeconds: 120, scope: undefined } });
  },
};

let servers: LocalServers;
let dir: string;
let socketPath: string;
const { logger } = capturedLogger();
const guard = { [SIDECAR_GUARD_HEADER]: "true" };

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "tessera-sock-"));
  socketPath = path.join(dir, "sidecar.sock");
  servers = await startLocalServers({ api, logger, now: clock.now, port: 0, socketPath, healthPort: 0, metricsPort: 0 });
});
afterAll(async () => {
  await servers.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const host = () => `127.0.0.1:${servers.port}`;
const get = (p: string, headers: Record<string, string> = { ...guard, host: host() }) => rawGet({ port: servers.port }, p, headers);

describe("local token endpoint", () => {
  it("returns an RFC 8693-shaped token that must not be cached", async () => {
    const res = await get("/v1/token?audience=https%3A%2F%2Fpayments.example&scope=write%20read&scope=read");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({
      access_token: "payments-token",
      issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
      token_type: "Bearer",
      expires_in: 299,
      scope: "read write",
    });
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.headers["content-type"]).toBe("application/json");
    expect(asked.at(-1)).toEqual(tokenKey("https://payments.example", ["read", "write"]));
  });

  it("answers a token held at once like one that was waited for, with its length", async () => {
    const res = await get("/v1/token?audience=https%3A%2F%2Fheld.example");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({
      access_token: "held-token",
      issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
      token_type: "Bearer",
      expires_in: 600,
    });
    expect(res.headers["content-length"]).toBe(String(Buffer.byteLength(res.body)));
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.headers["pragma"]).toBe("no-cache");
    expect(res.headers["content-type"]).toBe("application/json");
  });

  it("counts expires_in down as time passes between requests for the same token", async () => {
    const seen: number[] = [];
    for (const step of [0, 0, 10_500, 289_000]) {
      clock.advance(step);
      const res = await get("/v1/token?audience=https%3A%2F%2Fheld.example");
      seen.push((JSON.parse(res.body) as { expires_in: number }).expires_in);
    }
    clock.advance(-299_500);
    expect(seen).toEqual([600, 600, 589, 300]);
  });

  it("answers HEAD with the token response's headers and no body", async () => {
    const res = await rawGet({ port: servers.port }, "/v1/token?audience=https%3A%2F%2Fheld.example", { ...guard, host: host() }, "HEAD");
    expect(res.status).toBe(200);
    expect(res.body).toBe("");
    expect(res.headers["content-type"]).toBe("application/json");
    expect(res.headers["cache-control"]).toBe("no-store");
  });

  it("serves a configured token by name", async () => {
    const res = await get("/v1/token?name=payments");
    expect(res.status).toBe(200);
    expect(asked.at(-1)).toEqual(tokenKey("https://payments.example", ["read"]));
  });

  it.each([
    ["is missing", {}],
    ["is not \"true\"", { [SIDECAR_GUARD_HEADER]: "1" }],
  ])("refuses with 400 when the guard header %s", async (_case, extra) => {
    const res = await get("/v1/token?audience=https%3A%2F%2Fpayments.example", { host: host(), ...extra });
    expect(res.status).toBe(400);
    const body = JSON.parse(res.body) as { error: string; error_description: string };
    expect(body.error).toBe("invalid_request");
    expect(body.error_description).toContain(`${SIDECAR_GUARD_HEADER}: true`);
    expect(res.body).not.toContain("payments-token");
  });

  it.each([
    ["another name", "evil.example"],
    ["the right name on another port", "127.0.0.1:1"],
    ["a name that resolves to loopback", "rebind.attacker.example:8777"],
    ["no port", "localhost"],
  ])("refuses with 403 a Host header with %s", async (_case, badHost) => {
    const res = await get("/v1/token?audience=https%3A%2F%2Fpayments.example", { ...guard, host: badHost });
    expect(res.status).toBe(403);
    expect(res.body).not.toContain("payments-token");
  });

  it.each([
    ["an Origin header (a browser's cross-origin request)", { origin: "https://evil.example" }],
    ["an Origin header of null (a sandboxed page)", { origin: "null" }],
    ["an X-Forwarded-For header (a proxy forwarding to loopback)", { "x-forwarded-for": "203.0.113.7" }],
  ])("refuses with 403 a token request carrying %s, guard header or not", async (_case, extra) => {
    const res = await get("/v1/token?audience=https%3A%2F%2Fpayments.example", { ...guard, host: host(), ...extra });
    expect(res.status).toBe(403);
    expect((JSON.parse(res.body) as { error: string }).error).toBe("access_denied");
    expect(res.body).not.toContain("payments-token");
  });

  it("accepts localhost:PORT as Host", async () => {
    const res = await get("/v1/token?audience=https%3A%2F%2Fpayments.example", { ...guard, host: `localhost:${servers.port}` });
    expect(res.status).toBe(200);
  });

  it.each([
    ["a policy denial", "https%3A%2F%2Fdenied.example", 403, { error: "access_denied", error_description: "no policy grants this audience", tessera_reason: "no-matching-policy", tessera_decision_id: "d-9" }],
    ["an unknown audience", "https%3A%2F%2Fbad-target.example", 400, { error: "invalid_target", error_description: "unknown audience" }],
  ])("passes %s through as the issuer's OAuth error", async (_case, audience, status, body) => {
    const res = await get(`/v1/token?audience=${audience}`);
    expect(res.status).toBe(status);
    expect(JSON.parse(res.body)).toEqual(body);
    expect(res.headers["cache-control"]).toBe("no-store");
  });

  it("answers 503 with the sidecar's code when no token can be had right now", async () => {
    const res = await get("/v1/token?audience=down.example");
    expect(res.status).toBe(503);
    expect(res.headers["retry-after"]).toBe("1");
    expect(JSON.parse(res.body)).toEqual({
      error: "temporarily_unavailable",
      error_description: "issuer unreachable: connect ECONNREFUSED",
      tessera_sidecar_error: "ISSUER_UNREACHABLE",
    });
  });

  it("answers 500 with no detail when something unexpected throws", async () => {
    const res = await get("/v1/token?audience=https%3A%2F%2Fboom.example");
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ error: "server_error", error_description: "internal error" });
  });

  it.each([
    ["no audience", "/v1/token", 400, "invalid_request"],
    ["two audiences", "/v1/token?audience=a&audience=b", 400, "invalid_request"],
    ["an unknown name", "/v1/token?name=nope", 400, "invalid_target"],
    ["a name with an audience", "/v1/token?name=payments&audience=a", 400, "invalid_request"],
    ["an unknown parameter", "/v1/token?audience=a&foo=1", 400, "invalid_request"],
    ["a bad scope", "/v1/token?audience=a&scope=%22quoted%22", 400, "invalid_scope"],
    ["an audience with a control character", "/v1/token?audience=a%0Ab", 400, "invalid_target"],
    ["an unknown path", "/v1/secrets", 404, "invalid_request"],
  ])("rejects a request with %s", async (_case, p, status, error) => {
    const res = await get(p);
    expect(res.status).toBe(status);
    expect((JSON.parse(res.body) as { error: string }).error).toBe(error);
  });

  it("refuses methods other than GET", async () => {
    const res = await rawGet({ port: servers.port }, "/v1/token?audience=a", { ...guard, host: host() }, "POST");
    expect(res.status).toBe(405);
    expect(res.headers["allow"]).toBe("GET, HEAD");
  });
});

describe("DPoP proof endpoint", () => {
  const post = (body: string, headers: Record<string, string> = { ...guard, host: host(), "content-type": "application/json" }) =>
    rawGet({ port: servers.port }, "/v1/proof", headers, "POST", body);

  it("signs a proof with the pod's key for the method, URL and token the workload names", async () => {
    const res = await post(JSON.stringify({ method: "POST", url: "https://payments.example/v1/charges?x=1#f", access_token: "abc.def.ghi" }));
    expect(res.status).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-store");
    const { proof } = JSON.parse(res.body) as { proof: string };
    const header = decodeProtectedHeader(proof);
    expect(header).toMatchObject({ typ: "dpop+jwt", alg: "ES256" });
    expect(await calculateJwkThumbprint(header.jwk as JWK)).toBe(signer.jkt);
    const { payload } = await jwtVerify(proof, await importJWK(header.jwk as JWK, "ES256"));
    expect(payload).toMatchObject({ htm: "POST", htu: "https://payments.example/v1/charges", ath: accessTokenHash("abc.def.ghi"), iat: Math.floor(clock.ms() / 1000) });
    expect(typeof payload.jti).toBe("string");
  });

  it("gives a new jti for every proof", async () => {
    const body = JSON.stringify({ method: "GET", url: "https://payments.example/" });
    const jtis = await Promise.all([post(body), post(body)].map(async (r) => decodeJwt((JSON.parse((await r).body) as { proof: string }).proof).jti));
    expect(new Set(jtis).size).toBe(2);
  });

  const refusals: readonly (readonly [string, () => Promise<{ status: number }>, number])[] = [
    ["a request without the guard header is refused", () => post("{}", { host: host(), "content-type": "application/json" }), 400],
    ["a request from a browser (Origin) is refused", () => post(JSON.stringify({ method: "GET", url: "https://a.example/" }), { ...guard, host: host(), origin: "https://evil.example", "content-type": "application/json" }), 403],
    ["a GET is refused with Allow: POST", () => rawGet({ port: servers.port }, "/v1/proof", { ...guard, host: host() }), 405],
    ["a body that is not JSON is refused", () => post("method=GET"), 400],
    ["a form body is refused by its media type", () => post("{}", { ...guard, host: host(), "content-type": "application/x-www-form-urlencoded" }), 415],
    ["a relative URL is refused", () => post(JSON.stringify({ method: "GET", url: "/v1/charges" })), 400],
    ["a URL with credentials is refused", () => post(JSON.stringify({ method: "GET", url: "https://u:p@a.example/" })), 400],
    ["a method with spaces is refused", () => post(JSON.stringify({ method: "GET /x", url: "https://a.example/" })), 400],
    ["an oversized body is refused", () => post(JSON.stringify({ method: "GET", url: "https://a.example/", access_token: "a".repeat(30_000) })), 413],
  ];
  it.each(refusals)("%s", async (_name, send, status) => {
    expect((await send()).status).toBe(status);
  });
});

describe("health, readiness and metrics", () => {
  it("reports liveness, readiness and metrics without the guard header", async () => {
    ready = { ready: true, missing: [], podGone: false };
    expect((await get("/healthz", { host: host() })).status).toBe(200);
    expect((await get("/readyz", { host: host() })).status).toBe(200);
    const metrics = await get("/metrics", { host: host() });
    expect(metrics.status).toBe(200);
    expect(metrics.headers["content-type"]).toContain("text/plain; version=0.0.4");
    expect(metrics.body).toBe("tessera_sidecar_ready 1\n");
  });

  it("is unready and names the missing tokens", async () => {
    ready = { ready: false, missing: ["payments"], podGone: false };
    const res = await get("/readyz", { host: host() });
    expect(res.status).toBe(503);
    expect(res.body).toBe("not ready: no valid token for payments\n");
    ready = { ready: true, missing: [], podGone: false };
  });

  it("serves probes on the health port from any Host, but never tokens", async () => {
    const port = servers.healthPort ?? 0;
    expect((await rawGet({ port }, "/readyz", { host: "10.1.2.3:9" })).status).toBe(200);
    const token = await rawGet({ port }, "/v1/token?audience=https%3A%2F%2Fpayments.example", { ...guard, host: `127.0.0.1:${port}` });
    expect(token.status).toBe(404);
    expect(token.body).not.toContain("payments-token");
  });

  it.each([
    ["a token is missing", { ready: false, missing: ["payments"], podGone: false }],
    ["the pod is gone", { ready: false, missing: [], podGone: true }],
  ])("answers the probe port's readiness without details when %s", async (_case, state) => {
    ready = state;
    const res = await rawGet({ port: servers.healthPort ?? 0 }, "/readyz", { host: "10.1.2.3:9" });
    ready = { ready: true, missing: [], podGone: false };
    expect(res.status).toBe(503);
    expect(res.body).toBe("not ready\n");
  });

  it("keeps metrics off the probe port", async () => {
    const res = await rawGet({ port: servers.healthPort ?? 0 }, "/metrics", { host: "10.1.2.3:9" });
    expect(res.status).toBe(404);
    expect(res.body).not.toContain("tessera_sidecar_ready");
  });

  it("serves only metrics on the metrics port, from any Host", async () => {
    const port = servers.metricsPort ?? 0;
    const metrics = await rawGet({ port }, "/metrics", { host: "10.1.2.3:9" });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toBe("tessera_sidecar_ready 1\n");
    for (const p of ["/readyz", "/healthz", "/v1/token?audience=https%3A%2F%2Fpayments.example"]) {
      expect((await rawGet({ port }, p, { ...guard, host: `127.0.0.1:${port}` })).status).toBe(404);
    }
  });

  it("opens no metrics port unless one is configured", async () => {
    const plain = await startLocalServers({ api, logger, now: clock.now, port: 0, socketPath: undefined, healthPort: 0, metricsPort: undefined });
    try {
      expect(plain.metricsPort).toBeUndefined();
      expect((await rawGet({ port: plain.healthPort ?? 0 }, "/metrics", { host: "10.1.2.3:9" })).status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

describe("Unix socket", () => {
  it("serves tokens over the socket with the guard header", async () => {
    const res = await rawGet({ socketPath }, "/v1/token?audience=https%3A%2F%2Fpayments.example", { ...guard, host: "localhost" });
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { access_token: string }).access_token).toBe("payments-token");
    expect((await fs.stat(socketPath)).mode & 0o777).toBe(0o660);
  });

  it("still requires the guard header over the socket", async () => {
    const res = await rawGet({ socketPath }, "/v1/token?audience=https%3A%2F%2Fpayments.example", { host: "localhost" });
    expect(res.status).toBe(400);
  });
});

describe("local delegation endpoints", () => {
  const grant = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
  const act = (body: string, headers: Record<string, string> = { ...guard, host: host(), "content-type": "application/json" }) =>
    rawGet({ port: servers.port }, "/v1/act", headers, "POST", body);

  it("mints a grant for the named actor, audience and scopes, answered like a token", async () => {
    const res = await get("/v1/delegation?actor=system:serviceaccount:agents:planner&audience=https%3A%2F%2Fcalendar.example&scope=calendar.read");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ access_token: "grant-token", expires_in: 300, scope: "calendar.read" });
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(delegations.at(-1)).toEqual({ actor: "system:serviceaccount:agents:planner", audience: "https://calendar.example", scopes: ["calendar.read"] });
  });

  it.each([
    ["no actor", "/v1/delegation?audience=https%3A%2F%2Fcalendar.example"],
    ["an actor that is not a service account", "/v1/delegation?actor=user:alice&audience=https%3A%2F%2Fcalendar.example"],
    ["two actors", "/v1/delegation?actor=system:serviceaccount:a:b&actor=system:serviceaccount:a:c&audience=x"],
    ["no audience", "/v1/delegation?actor=system:serviceaccount:agents:planner"],
  ])("refuses a delegation request with %s", async (_name, target) => {
    const before = delegations.length;
    const res = await get(target);
    expect(res.status).toBe(400);
    expect(delegations).toHaveLength(before);
  });

  it("passes the issuer's refusal of a grant through", async () => {
    const res = await get("/v1/delegation?actor=system:serviceaccount:agents:stranger&audience=x");
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ tessera_reason: "DelegationNotAllowed" });
  });

  it("requires the guard header for a grant", async () => {
    expect((await get("/v1/delegation?actor=system:serviceaccount:agents:planner&audience=x", { host: host() })).status).toBe(400);
  });

  it("exchanges a received grant as this pod, the grant in the body and never in the URL", async () => {
    const res = await act(JSON.stringify({ grant, audience: "https://calendar.example", scope: "calendar.read" }));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ access_token: "acting-token", token_type: "DPoP", expires_in: 120 });
    expect(acts.at(-1)).toEqual({ grant, audience: "https://calendar.example", scopes: ["calendar.read"] });
  });

  it.each([
    ["GET", "/v1/act", 405],
    ["a body that is not JSON", "nope", 400],
    ["a grant that is not a JWT", JSON.stringify({ grant: "x", audience: "a" }), 400],
    ["no audience", JSON.stringify({ grant }), 400],
  ])("refuses an act request with %s", async (name, body, status) => {
    const res = name === "GET" ? await get(body) : await act(body);
    expect(res.status).toBe(status);
  });
});
