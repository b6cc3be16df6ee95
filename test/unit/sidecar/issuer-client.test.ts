// Issuer client: RFC 8693 request shape, and every kind of reply (token, denial, outage, garbage) as a typed outcome.
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, type JWK } from "jose";
import { describe, expect, it } from "vitest";
import { GRANT_TYPE_TOKEN_EXCHANGE, PATH_TOKEN, PATH_WATCH, TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_JWT } from "../../../api/constants.ts";
import type { HttpRequest, HttpResponse, HttpTransport } from "../../../sidecar/src/http-transport.ts";
import { TransportError } from "../../../sidecar/src/http-transport.ts";
import { generateDpopSigner } from "../../../sidecar/src/dpop-key.ts";
import { issuerClient } from "../../../sidecar/src/issuer-client.ts";
import { tokenKey } from "../../../sidecar/src/token-key.ts";

const key = tokenKey("https://payments.example", ["write", "read"]);

function replying(status: number, body: string): { transport: HttpTransport; requests: HttpRequest[] } {
  const requests: HttpRequest[] = [];
  const transport: HttpTransport = (req) => {
    requests.push(req);
    return Promise.resolve<HttpResponse>({ status, contentType: "application/json", body });
  };
  return { transport, requests };
}

function failing(err: unknown): HttpTransport {
  return () => Promise.reject(err instanceof Error ? err : new Error(String(err)));
}

/** A clock that moves only when the client pauses, so retries take no real time; `slept` lists the pauses. */
function fakeTime(): { clock: () => number; sleep: (ms: number) => Promise<void>; random: () => number; slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    clock: () => now,
    sleep: (ms) => {
      now += ms;
      slept.push(ms);
      return Promise.resolve();
    },
    // The middle of the jitter range: every pause is its nominal length.
    random: () => 0.5,
    slept,
  };
}

const client = (transport: HttpTransport) => issuerClient({ issuerUrl: "https://issuer.example", transport, ...fakeTime() });

describe("issuerClient.exchange", () => {
  it("sends an RFC 8693 form with the subject token, audience and sorted scopes", async () => {
    const { transport, requests } = replying(
      200,
      JSON.stringify({ access_token: "a.b.c", issued_token_type: TOKEN_TYPE_ACCESS_TOKEN, token_type: "Bearer", expires_in: 600 }),
    );
    await client(transport).exchange("subject.jwt.value", key);
    const req = requests[0];
    expect(req?.method).toBe("POST");
    expect(req?.url.href).toBe(`https://issuer.example${PATH_TOKEN}`);
    expect(req?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(Object.fromEntries(new URLSearchParams(req?.body ?? ""))).toEqual({
      grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
      subject_token: "subject.jwt.value",
      subject_token_type: TOKEN_TYPE_JWT,
      requested_token_type: TOKEN_TYPE_ACCESS_TOKEN,
      audience: "https://payments.example",
      scope: "read write",
    });
  });

  it("parses a granted token", async () => {
    const { transport } = replying(
      200,
      JSON.stringify({ access_token: "a.b.c", issued_token_type: TOKEN_TYPE_ACCESS_TOKEN, token_type: "bearer", expires_in: 600, scope: "read" }),
    );
    expect(await client(transport).exchange("s", key)).toEqual({
      kind: "issued",
      token: { accessToken: "a.b.c", issuedTokenType: TOKEN_TYPE_ACCESS_TOKEN, tokenType: "Bearer", expiresInSeconds: 600, scope: "read" },
    });
  });

  it.each([
    [403, "access_denied", "no-matching-policy"],
    [400, "invalid_target", "audience-not-allowed"],
    [400, "invalid_scope", "scope-not-allowed"],
    [401, "invalid_grant", undefined],
  ])("passes a %i %s denial through with its reason", async (status, error, reason) => {
    const body = { error, error_description: "denied by policy", tessera_reason: reason, tessera_decision_id: "d-1" };
    const { transport } = replying(status, JSON.stringify(body));
    expect(await client(transport).exchange("s", key)).toEqual({
      kind: "denied",
      denial: {
        status,
        error: { error, error_description: "denied by policy", ...(reason === undefined ? {} : { tessera_reason: reason }), tessera_decision_id: "d-1" },
      },
    });
  });

  it.each([
    ["a 200 that is not JSON", 200, "<html>proxy</html>", "ISSUER_BAD_RESPONSE"],
    ["a 200 without access_token", 200, JSON.stringify({ token_type: "Bearer", expires_in: 60 }), "ISSUER_BAD_RESPONSE"],
    ["a 200 with a negative expires_in", 200, JSON.stringify({ access_token: "x", issued_token_type: "t", token_type: "Bearer", expires_in: -1 }), "ISSUER_BAD_RESPONSE"],
    ["a 200 with a token type other than Bearer and DPoP", 200, JSON.stringify({ access_token: "x", issued_token_type: "t", token_type: "MAC", expires_in: 60 }), "ISSUER_BAD_RESPONSE"],
    ["a 200 holding a JSON array", 200, "[]", "ISSUER_BAD_RESPONSE"],
    ["a 403 with an HTML body", 403, "<html>forbidden</html>", "ISSUER_BAD_RESPONSE"],
    ["a 400 with an unknown error code", 400, JSON.stringify({ error: "nope" }), "ISSUER_BAD_RESPONSE"],
    ["a 302 redirect", 302, "", "ISSUER_BAD_RESPONSE"],
    ["a 500", 500, JSON.stringify({ error: "server_error", error_description: "boom" }), "ISSUER_UNAVAILABLE"],
    ["a 503 with garbage", 503, "upstream connect error", "ISSUER_UNAVAILABLE"],
    ["a 429", 429, "", "ISSUER_UNAVAILABLE"],
    ["a 400 temporarily_unavailable", 400, JSON.stringify({ error: "temporarily_unavailable", error_description: "x" }), "ISSUER_UNAVAILABLE"],
  ])("reports %s as a failure to retry, never a crash", async (_case, status, body, code) => {
    const { transport } = replying(status, body);
    const outcome = await client(transport).exchange("s", key);
    expect(outcome.kind).toBe("failed");
    expect(outcome.kind === "failed" && outcome.failure.code).toBe(code);
  });

  it.each([
    ["a timeout", new TransportError("timeout", "no complete response within 10000 ms"), "ISSUER_TIMEOUT"],
    ["a refused connection", new TransportError("network", "connect ECONNREFUSED"), "ISSUER_UNREACHABLE"],
    ["an oversized body", new TransportError("too_large", "response body exceeds 262144 bytes"), "ISSUER_BAD_RESPONSE"],
    ["an unexpected throw", new Error("weird"), "ISSUER_UNREACHABLE"],
  ])("reports %s as a typed failure", async (_case, err, code) => {
    const outcome = await client(failing(err)).exchange("s", key);
    expect(outcome.kind === "failed" && outcome.failure.code).toBe(code);
  });
});

/** Refuses the first `refusals` requests as a dead replica's address does, then answers like `then`. */
function refusingFirst(refusals: number, then: HttpTransport): { transport: HttpTransport; requests: HttpRequest[] } {
  const requests: HttpRequest[] = [];
  const transport: HttpTransport = (req) => {
    requests.push(req);
    return requests.length <= refusals ? Promise.reject(new TransportError("network", "request failed: connect ECONNREFUSED 10.0.0.59:443")) : then(req);
  };
  return { transport, requests };
}

const granted = JSON.stringify({ access_token: "a.b.c", issued_token_type: TOKEN_TYPE_ACCESS_TOKEN, token_type: "Bearer", expires_in: 600 });

describe("issuerClient when an issuer replica dies", () => {
  it("asks again after refused connections, sooner first, and returns the token a live replica grants", async () => {
    const time = fakeTime();
    const { transport, requests } = refusingFirst(2, replying(200, granted).transport);
    const outcome = await issuerClient({ issuerUrl: "https://issuer.example", transport, ...time }).exchange("s", key);
    expect(outcome).toMatchObject({ kind: "issued", token: { accessToken: "a.b.c" } });
    expect(requests).toHaveLength(3);
    expect(time.slept).toEqual([100, 200]);
  });

  it("gives each attempt only what is left of the exchange's deadline", async () => {
    const { transport, requests } = refusingFirst(2, replying(200, granted).transport);
    await issuerClient({ issuerUrl: "https://issuer.example", transport, exchangeTimeoutMs: 5_000, ...fakeTime() }).exchange("s", key);
    expect(requests.map((r) => r.timeoutMs)).toEqual([5_000, 4_900, 4_700]);
  });

  it.each([
    ["the 5 s retry window", 10_000, [100, 200, 400, 800, 1_600]],
    ["a shorter exchange deadline", 1_000, [100, 200, 400]],
  ])("stops at %s and reports the issuer unreachable, for the cache's backoff to take over", async (_case, exchangeTimeoutMs, pauses) => {
    const time = fakeTime();
    const { transport, requests } = refusingFirst(Number.POSITIVE_INFINITY, replying(200, granted).transport);
    const outcome = await issuerClient({ issuerUrl: "https://issuer.example", transport, exchangeTimeoutMs, ...time }).exchange("s", key);
    expect(outcome).toMatchObject({ kind: "failed", failure: { code: "ISSUER_UNREACHABLE" } });
    expect(time.slept).toEqual(pauses);
    expect(requests).toHaveLength(pauses.length + 1);
  });

  it.each([
    ["a timeout (the exchange's time is spent)", (): Promise<HttpResponse> => Promise.reject(new TransportError("timeout", "no complete response within 10000 ms"))],
    ["an abort by the caller", (): Promise<HttpResponse> => Promise.reject(new TransportError("aborted", "request aborted"))],
    ["an oversized answer", (): Promise<HttpResponse> => Promise.reject(new TransportError("too_large", "response body exceeds 262144 bytes"))],
    ["a 503 (the cache backs off)", (): Promise<HttpResponse> => Promise.resolve({ status: 503, contentType: "application/json", body: JSON.stringify({ error: "temporarily_unavailable", error_description: "x" }) })],
    ["a denial", (): Promise<HttpResponse> => Promise.resolve({ status: 403, contentType: "application/json", body: JSON.stringify({ error: "access_denied", error_description: "x" }) })],
  ])("does not repeat %s", async (_case, answer) => {
    const time = fakeTime();
    const requests: HttpRequest[] = [];
    const transport: HttpTransport = (req) => {
      requests.push(req);
      return answer();
    };
    await issuerClient({ issuerUrl: "https://issuer.example", transport, ...time }).exchange("s", key);
    expect(requests).toHaveLength(1);
    expect(time.slept).toEqual([]);
  });

  it("does not repeat a watch poll (its own loop backs off)", async () => {
    const time = fakeTime();
    const { transport, requests } = refusingFirst(1, replying(204, "").transport);
    expect(await issuerClient({ issuerUrl: "https://issuer.example", transport, ...time }).watch("s", "1")).toMatchObject({ kind: "failed" });
    expect(requests).toHaveLength(1);
  });

  it("signs a new DPoP proof for every attempt", async () => {
    const signer = generateDpopSigner({ now: () => new Date() });
    const { transport, requests } = refusingFirst(1, replying(200, granted).transport);
    await issuerClient({ issuerUrl: "https://issuer.example", transport, dpop: signer, dpopMode: "always", ...fakeTime() }).exchange("s", key);
    const jtis = requests.map((r) => decodeJwt(r.headers["dpop"] ?? "").jti);
    expect(jtis).toHaveLength(2);
    expect(new Set(jtis).size).toBe(2);
  });
});

describe("issuerClient.watch", () => {
  it("long-polls with the subject token as Bearer and the last version", async () => {
    const { transport, requests } = replying(200, JSON.stringify({ version: "7", reason: "policy-changed" }));
    expect(await client(transport).watch("subject.jwt.value", "6")).toEqual({
      kind: "changed",
      change: { version: "7", reason: "policy-changed" },
    });
    expect(requests[0]?.url.href).toBe(`https://issuer.example${PATH_WATCH}?since=6`);
    expect(requests[0]?.headers["authorization"]).toBe("Bearer subject.jwt.value");
    expect(requests[0]?.timeoutMs).toBeGreaterThan(25_000);
  });

  it.each([
    ["204", 204, "", { kind: "unchanged" }],
    ["200 with an empty version", 200, JSON.stringify({ version: "", reason: "pod-deleted" }), { kind: "changed", change: { version: "", reason: "pod-deleted" } }],
    ["200 without a reason", 200, JSON.stringify({ version: "8" }), { kind: "changed", change: { version: "8", reason: "unspecified" } }],
    ["200 with a reason this sidecar does not know", 200, JSON.stringify({ version: "8", reason: "quota-changed" }), { kind: "changed", change: { version: "8", reason: "unspecified" } }],
    [
      "410",
      410,
      JSON.stringify({ error: "invalid_grant", error_description: "pod deleted", tessera_reason: "pod-not-found" }),
      { kind: "gone", denial: { status: 410, error: { error: "invalid_grant", error_description: "pod deleted", tessera_reason: "pod-not-found" } } },
    ],
    ["401", 401, JSON.stringify({ error: "invalid_grant", error_description: "bad token" }), { kind: "denied", denial: { status: 401, error: { error: "invalid_grant", error_description: "bad token" } } }],
  ])("maps a %s answer", async (_case, status, body, expected) => {
    const { transport } = replying(status, body);
    expect(await client(transport).watch("s", "1")).toEqual(expected);
  });

  it.each([
    ["a 200 without a version", 200, JSON.stringify({ reason: "x" }), "ISSUER_BAD_RESPONSE"],
    ["a 404 from an issuer without the channel", 404, "not found", "ISSUER_BAD_RESPONSE"],
    ["a 502", 502, "", "ISSUER_UNAVAILABLE"],
  ])("reports %s as a failure", async (_case, status, body, code) => {
    const { transport } = replying(status, body);
    const outcome = await client(transport).watch("s", "1");
    expect(outcome.kind === "failed" && outcome.failure.code).toBe(code);
  });
});

describe("issuerClient.exchange with the pod's DPoP key", () => {
  const signer = generateDpopSigner({ now: () => new Date("2026-12-03T12:00:00Z") });
  const bound = JSON.stringify({ access_token: "a.b.c", issued_token_type: TOKEN_TYPE_ACCESS_TOKEN, token_type: "DPoP", expires_in: 600 });
  const required = JSON.stringify({ error: "invalid_dpop_proof", error_description: "TokenPolicy/shop/api grants payments only as DPoP-bound tokens" });

  /** Answers `invalid_dpop_proof` to a request without a proof, a bound token to one with a proof. */
  function requiring(): { transport: HttpTransport; requests: HttpRequest[] } {
    const requests: HttpRequest[] = [];
    const transport: HttpTransport = (req) => {
      requests.push(req);
      const withProof = req.headers["dpop"] !== undefined;
      return Promise.resolve<HttpResponse>({ status: withProof ? 200 : 400, contentType: "application/json", body: withProof ? bound : required });
    };
    return { transport, requests };
  }

  it("sends no proof until the issuer says the policy requires one, then asks again with a proof and keeps sending them", async () => {
    const { transport, requests } = requiring();
    const c = issuerClient({ issuerUrl: "https://issuer.example", transport, dpop: signer });
    expect(await c.exchange("s", key)).toMatchObject({ kind: "issued", token: { tokenType: "DPoP" } });
    expect(requests.map((r) => r.headers["dpop"] !== undefined)).toEqual([false, true]);
    await c.exchange("s", key);
    expect(requests.map((r) => r.headers["dpop"] !== undefined)).toEqual([false, true, true]);
  });

  it("sends a proof for the token endpoint signed by the pod's key on every exchange in always mode", async () => {
    const { transport, requests } = replying(200, bound);
    await issuerClient({ issuerUrl: "https://issuer.example", transport, dpop: signer, dpopMode: "always" }).exchange("s", key);
    const proof = requests[0]?.headers["dpop"] ?? "";
    expect(decodeJwt(proof)).toMatchObject({ htm: "POST", htu: `https://issuer.example${PATH_TOKEN}` });
    expect(await calculateJwkThumbprint(decodeProtectedHeader(proof).jwk as JWK)).toBe(signer.jkt);
  });

  it("passes the refusal on when even a request with a proof is refused", async () => {
    const { transport } = replying(400, required);
    const outcome = await issuerClient({ issuerUrl: "https://issuer.example", transport, dpop: signer }).exchange("s", key);
    expect(outcome).toMatchObject({ kind: "denied", denial: { status: 400, error: { error: "invalid_dpop_proof" } } });
  });
});
