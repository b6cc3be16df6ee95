// requireToken over real HTTP: status, WWW-Authenticate challenges and JSON bodies a client can act on.
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, describe, expect, it } from "vitest";
import { tokenGuard } from "../../../verify/index.ts";
import { dpopKey, testIssuer, verifierFor } from "./fixtures.ts";

const NOW = new Date("2026-12-03T12:00:00Z");
const now = (): Date => NOW;
const ORIGIN = "https://payments.shop.test";

describe("requireToken", async () => {
  const issuer = await testIssuer(now);
  const key = await dpopKey(now);
  const verifier = verifierFor(issuer, now);
  const app = express();
  const guard = tokenGuard(verifier, { origin: ORIGIN });
  app.post("/v1/charges", guard.requireToken({ scopes: ["payments:charge"], claims: { "tessera.dev/namespace": "shop" } }), (req, res) => {
    res.json({ charged: true, by: req.tessera?.token.sub, binding: req.tessera?.binding });
  });
  app.post("/v1/refunds", guard.requireToken({ scopes: ["payments:refund"] }), (_req, res) => {
    res.json({ refunded: true });
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  afterAll(() => {
    server.close();
  });

  const call = (path: string, headers: Record<string, string>) => fetch(`${base}${path}`, { method: "POST", headers });

  it("lets the legitimate bearer call through with its claims on the request", async () => {
    const res = await call("/v1/charges", { authorization: `Bearer ${await issuer.mint()}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ charged: true, by: "system:serviceaccount:shop:checkout", binding: "Bearer" });
  });

  it("lets a DPoP call through when the proof names the configured origin and the path", async () => {
    const token = await issuer.mint({ cnf: { jkt: key.jkt } });
    const proof = await key.proof({ method: "POST", url: `${ORIGIN}/v1/charges`, token });
    const res = await call("/v1/charges", { authorization: `DPoP ${token}`, dpop: proof });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ binding: "DPoP" });
  });

  const refusals: readonly (readonly [string, string, () => Promise<Record<string, string>>, number, RegExp, string | undefined])[] = [
    ["a request without a token gets a bare challenge for both schemes", "/v1/charges", () => Promise.resolve({}), 401, /^Bearer realm="payments", DPoP algs="ES256 EdDSA"$/, undefined],
    ["a malformed Authorization header is a 400 invalid_request", "/v1/charges", () => Promise.resolve({ authorization: "Basic abc" }), 400, /^Bearer realm="payments", error="invalid_request"/, "invalid_request"],
    ["a token for another audience is a 401 invalid_token", "/v1/charges", async () => ({ authorization: `Bearer ${await issuer.mint({ aud: "ledger" })}` }), 401, /^Bearer realm="payments", error="invalid_token", error_description="the access token is for another audience; this API accepts tokens for payments"/, "invalid_token"],
    ["a token with too few scopes is a 403 insufficient_scope naming the scope", "/v1/refunds", async () => ({ authorization: `Bearer ${await issuer.mint()}` }), 403, /error="insufficient_scope".*scope="payments:refund"/, "insufficient_scope"],
    ["a token whose claims do not fit the route is a 403", "/v1/charges", async () => ({ authorization: `Bearer ${await issuer.mint({ "tessera.dev/namespace": "other" })}` }), 403, /error="insufficient_scope"/, "insufficient_scope"],
    ["a bound token without a proof is a 401 DPoP invalid_dpop_proof", "/v1/charges", async () => ({ authorization: `DPoP ${await issuer.mint({ cnf: { jkt: key.jkt } })}` }), 401, /^DPoP algs="ES256 EdDSA", error="invalid_dpop_proof"/, "invalid_dpop_proof"],
  ];
  it.each(refusals)("%s", async (_name, path, headers, status, challenge, error) => {
    const res = await call(path, await headers());
    expect(res.status).toBe(status);
    expect(res.headers.get("www-authenticate")).toMatch(challenge);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as { error?: string; error_description: string };
    expect(body.error).toBe(error);
    expect(body.error_description.length).toBeGreaterThan(10);
  });

  it("refuses a request with two Authorization headers as invalid_request", async () => {
    const token = await issuer.mint();
    const { port } = server.address() as AddressInfo;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, method: "POST", path: "/v1/charges" }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.setHeader("authorization", [`Bearer ${token}`, `Bearer ${token}`]);
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(400);
  });

  it("refuses an origin with a path as a caller mistake", () => {
    expect(() => tokenGuard(verifier, { origin: "https://x.test/api" })).toThrow(TypeError);
  });
});
