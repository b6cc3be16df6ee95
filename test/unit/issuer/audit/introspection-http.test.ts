// The audit endpoints' HTTP shells on a loopback server: methods, media type, OAuth error mapping, RFC 7009 answers.

import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { CallerAuthenticator } from "../../../../controller/src/issuer/audit/caller-auth.ts";
import type { Handler } from "../../../../controller/src/issuer/http.ts";
import { createIntrospectionHandler, createRevocationHandler } from "../../../../controller/src/issuer/audit/introspection-http.ts";
import { AuditEndpointError } from "../../../../controller/src/issuer/audit/errors.ts";
import { Introspector } from "../../../../controller/src/issuer/audit/introspection.ts";
import type { RevocationStore } from "../../../../controller/src/issuer/audit/revocation.ts";
import type { TokenReviewResult } from "../../../../controller/src/issuer/subject/token-review-verifier.ts";
import { captureLogger } from "../capture-logger.ts";

const allowlist = { introspect: ["ops/bot"], revoke: ["ops/bot"], explain: [] };
const reviewer = {
  review: (token: string): Promise<TokenReviewResult> =>
    Promise.resolve(
      token === "bot"
        ? { authenticated: true, audiences: ["tessera.dev/issuer"], username: "system:serviceaccount:ops:bot", extra: {} }
        : { authenticated: false, audiences: [], extra: {} },
    ),
};
const auth = new CallerAuthenticator({ reviewer, audience: "tessera.dev/issuer", allowlist, now: () => new Date(0) });

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function serve(handler: Handler): Promise<number> {
  const created = createServer((req, res) => void handler(req, res));
  server = created;
  await new Promise<void>((resolve) => created.listen(0, "127.0.0.1", resolve));
  return (created.address() as AddressInfo).port;
}

function send(port: number, init: { method?: string; body?: string; headers?: Record<string, string> }): Promise<{ status: number; body: unknown; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", method: init.method ?? "POST", headers: init.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, body: text === "" ? undefined : JSON.parse(text), headers: res.headers });
      });
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

const FORM = { "content-type": "application/x-www-form-urlencoded" };

function introspector(isRevoked: () => boolean): Introspector {
  return new Introspector({
    issuer: "https://tessera.example",
    keys: { verificationKey: () => undefined },
    revocations: { isRevoked },
    pods: { get: () => undefined },
    policies: { get: () => undefined },
    now: () => new Date(0),
  });
}

describe("introspection endpoint", () => {
  it.each([
    ["a GET", { method: "GET", headers: { authorization: "Bearer bot" } }, 405, "invalid_request"],
    ["no credentials", { body: "token=x", headers: FORM }, 401, "invalid_client"],
    ["JSON instead of a form", { body: "{}", headers: { authorization: "Bearer bot", "content-type": "application/json" } }, 400, "invalid_request"],
    ["no token parameter", { body: "hint=x", headers: { ...FORM, authorization: "Bearer bot" } }, 400, "invalid_request"],
    ["two token parameters", { body: "token=a&token=b", headers: { ...FORM, authorization: "Bearer bot" } }, 400, "invalid_request"],
  ])("answers %s with %s %s", async (_name, init, status, error) => {
    const port = await serve(createIntrospectionHandler({ auth, introspector: introspector(() => false), logger: captureLogger().logger }));
    const answer = await send(port, init);
    expect(answer.status).toBe(status);
    expect(answer.body).toMatchObject({ error });
    expect(answer.headers["cache-control"]).toBe("no-store");
  });

  it("answers an unverifiable token with exactly {active:false}", async () => {
    const port = await serve(createIntrospectionHandler({ auth, introspector: introspector(() => false), logger: captureLogger().logger }));
    const answer = await send(port, { body: "token=not.a.token&token_type_hint=access_token", headers: { ...FORM, authorization: "Bearer bot" } });
    expect(answer).toMatchObject({ status: 200, body: { active: false } });
    expect(Object.keys(answer.body as object)).toEqual(["active"]);
  });

  it("answers 413 for a body beyond the limit", async () => {
    const handler = createIntrospectionHandler({ auth, introspector: introspector(() => false), logger: captureLogger().logger });
    const port = await serve(handler);
    expect((await send(port, { body: `token=${"a".repeat(40_000)}`, headers: { ...FORM, authorization: "Bearer bot" } })).status).toBe(413);
  });
});

describe("audit endpoint failures", () => {
  it("maps an unreachable apiserver behind a lookup to 503 temporarily_unavailable", async () => {
    const { IssuerError } = await import("../../../../controller/src/issuer/errors.ts");
    const { createExplainHandler } = await import("../../../../controller/src/issuer/explain/http.ts");
    const explainer = { explain: () => Promise.reject(new IssuerError("UpstreamUnavailable", "reading pod failed")) };
    const open = new CallerAuthenticator({ reviewer, audience: "tessera.dev/issuer", allowlist: { ...allowlist, explain: ["ops/bot"] }, now: () => new Date(0) });
    const port = await serve(createExplainHandler({ auth: open, explainer: explainer as never, logger: captureLogger().logger }));
    const answer = await new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/?namespace=a&pod=b&audience=x", method: "GET", headers: { authorization: "Bearer bot" } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) });
        });
      });
      req.on("error", reject);
      req.end();
    });
    expect(answer).toMatchObject({ status: 503, body: { error: "temporarily_unavailable" } });
  });
});

describe("revocation endpoint", () => {
  function store(log: [string, number][], fail = false, callers: string[] = []): RevocationStore {
    return {
      revoke: (jti: string, exp: number, caller: string) => {
        if (fail) return Promise.reject(new AuditEndpointError("RevocationStoreUnavailable", "apiserver down"));
        if (jti === "over-share") {
          return Promise.reject(new AuditEndpointError("RevocationQuotaExceeded", "over its share", { retryAfterSeconds: 42 }));
        }
        callers.push(caller);
        log.push([jti, exp]);
        return Promise.resolve();
      },
    } as unknown as RevocationStore;
  }

  function handler(log: [string, number][], fail = false, callers: string[] = []): Handler {
    return createRevocationHandler({
      auth,
      store: store(log, fail, callers),
      keys: { verificationKey: () => undefined },
      issuer: "https://tessera.example",
      now: () => new Date(1_000_000),
      maxTokenLifetimeSeconds: 3600,
      logger: captureLogger().logger,
    });
  }

  it("revokes a bare jti for the longest token lifetime when no exp is given", async () => {
    const log: [string, number][] = [];
    const port = await serve(handler(log));
    expect((await send(port, { body: "jti=abc", headers: { ...FORM, authorization: "Bearer bot" } })).status).toBe(200);
    expect(log).toEqual([["abc", 1000 + 3600]]);
  });

  it("answers 200 and revokes nothing for a token it cannot verify (RFC 7009 section 2.2)", async () => {
    const log: [string, number][] = [];
    const port = await serve(handler(log));
    expect((await send(port, { body: "token=garbage", headers: { ...FORM, authorization: "Bearer bot" } })).status).toBe(200);
    expect(log).toEqual([]);
  });

  it.each([
    ["both token and jti", "token=a&jti=b", 400],
    ["neither", "x=1", 400],
    ["a non-numeric exp", "jti=a&exp=soon", 400],
  ])("refuses %s", async (_name, body, status) => {
    const port = await serve(handler([]));
    expect((await send(port, { body, headers: { ...FORM, authorization: "Bearer bot" } })).status).toBe(status);
  });

  it("charges the revocation to the authenticated caller", async () => {
    const callers: string[] = [];
    const port = await serve(handler([], false, callers));
    await send(port, { body: "jti=abc", headers: { ...FORM, authorization: "Bearer bot" } });
    expect(callers).toEqual(["ops/bot"]);
  });

  it("answers 429 temporarily_unavailable with Retry-After when the caller is over its share", async () => {
    const port = await serve(handler([]));
    const answer = await send(port, { body: "jti=over-share", headers: { ...FORM, authorization: "Bearer bot" } });
    expect(answer).toMatchObject({ status: 429, headers: { "retry-after": "42" }, body: { error: "temporarily_unavailable" } });
  });

  it("answers 503 temporarily_unavailable when the list cannot be written", async () => {
    const port = await serve(handler([], true));
    const answer = await send(port, { body: "jti=abc", headers: { ...FORM, authorization: "Bearer bot" } });
    expect(answer).toMatchObject({ status: 503, body: { error: "temporarily_unavailable" } });
  });
});
