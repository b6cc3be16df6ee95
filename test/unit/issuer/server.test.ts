// The issuer's HTTPS server: routes, headers, mounted routes, the watch long-poll, and serving-certificate rotation.
import { request } from "node:https";
import type { TLSSocket } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import type { EntitlementChange } from "../../../api/exchange.ts";
import type { EntitlementFeed } from "../../../controller/src/issuer/exchange/entitlement-feed.ts";
import type { PodInfo } from "../../../controller/src/issuer/subject/pod-lookup.ts";
import { createIssuerServer, type IssuerServer } from "../../../controller/src/issuer/server.ts";
import type { TlsMaterial } from "../../../controller/src/tls/material.ts";
import { JwksSubjectVerifier, type SubjectVerifier } from "../../../controller/src/issuer/subject/subject-verifier.ts";
import { IssuerError } from "../../../controller/src/issuer/errors.ts";
import { createWatchHandler } from "../../../controller/src/issuer/exchange/watch.ts";
import { generatePki } from "../../controlplane/pki.ts";
import { keySetOf, NOW, projectedClaims, rsaClusterKey, RULES, signToken, silentLogger } from "./fixtures.ts";

const clusterKey = rsaClusterKey();
const token = signToken(clusterKey, projectedClaims());
const POD: PodInfo = { namespace: "shop", name: "api-0", uid: "pod-uid-1", serviceAccountName: "api", labels: {}, annotations: {} };

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  fingerprint: string;
}

function call(port: number, ca: string, path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: init.method ?? "GET", ca, headers: init.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const socket = res.socket;
      const fingerprint = "getPeerCertificate" in socket ? (socket as TLSSocket).getPeerCertificate().fingerprint256 : "";
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text === "" ? undefined : (JSON.parse(text) as unknown), fingerprint });
      });
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

function feedOf(state: { version: string; next?: EntitlementChange }): EntitlementFeed {
  return {
    version: () => state.version,
    waitForChange: (_uid, _since, signal) =>
      new Promise((resolve) => {
        if (state.next !== undefined) {
          const next = state.next;
          setImmediate(() => {
            resolve(next);
          });
          return;
        }
        signal.addEventListener("abort", () => {
          resolve(undefined);
        });
      }),
  };
}

describe("createIssuerServer", () => {
  let server: IssuerServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(options: { tls: () => TlsMaterial; pods?: PodInfo[]; feed?: EntitlementFeed; verifier?: SubjectVerifier }) {
    const pods = options.pods ?? [POD];
    const verifier = options.verifier ?? new JwksSubjectVerifier({ rules: RULES, keys: keySetOf(clusterKey), now: () => NOW });
    server = createIssuerServer({
      tls: options.tls,
      issuer: "https://tessera.example",
      exchange: (body) =>
        Promise.resolve(
          body === "flood=1"
            ? { status: 429, body: { error: "temporarily_unavailable", error_description: "slow down" }, retryAfterSeconds: 7 }
            : { status: 200, body: { access_token: body, issued_token_type: "x", token_type: "Bearer", expires_in: 1 } },
        ),
      jwks: () => ({ keys: [] }),
      ready: () => true,
      ...(options.feed === undefined
        ? {}
        : {
            watch: createWatchHandler({
              verifier,
              pods: { get: (ns, name) => pods.find((p) => p.namespace === ns && p.name === name) },
              feed: options.feed,
              holdMs: 50,
            }),
          }),
      extraRoutes: {
        "/v1/introspect": (_req, res) => {
          res.writeHead(200).end("{}");
        },
        "/boom": () => {
          throw new Error("handler bug");
        },
      },
      logger: silentLogger,
    });
    return (await server.listen(0, "127.0.0.1")).port;
  }

  it("routes token, discovery, mounted routes and unknown paths with the right headers", async () => {
    const pki = await generatePki(new Date());
    const tls = { cert: pki.serving.certPem, key: pki.serving.keyPem };
    const port = await start({ tls: () => tls });
    const ca = pki.ca.certPem;
    const token = await call(port, ca, "/v1/token", { method: "POST", body: "a=b", headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" } });
    expect(token).toMatchObject({ status: 200, headers: { "cache-control": "no-store" }, body: { access_token: "a=b" } });
    expect(token.headers["retry-after"]).toBeUndefined();
    const limited = await call(port, ca, "/v1/token", { method: "POST", body: "flood=1", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(limited).toMatchObject({ status: 429, headers: { "retry-after": "7" }, body: { error: "temporarily_unavailable" } });
    expect((await call(port, ca, "/.well-known/openid-configuration")).body).toMatchObject({
      issuer: "https://tessera.example",
      jwks_uri: "https://tessera.example/.well-known/jwks.json",
    });
    expect((await call(port, ca, "/v1/introspect", { method: "POST" })).status).toBe(200);
    expect(await call(port, ca, "/nope")).toMatchObject({ status: 404, body: { error: "invalid_request" } });
    expect(await call(port, ca, "/boom")).toMatchObject({ status: 500, body: { error: "server_error" } });
    expect((await call(port, ca, "/.well-known/jwks.json", { method: "POST" })).status).toBe(405);
  });

  it("refuses an extra route that would shadow a built-in one", () => {
    expect(() =>
      createIssuerServer({
        tls: () => ({ cert: "", key: "" }),
        issuer: "https://x",
        exchange: () => Promise.reject(new Error("unused")),
        jwks: () => ({ keys: [] }),
        ready: () => true,
        extraRoutes: { "/v1/token": () => undefined },
        logger: silentLogger,
      }),
    ).toThrow(TypeError);
  });

  it("serves new TLS material to new connections without a restart", async () => {
    const first = await generatePki(new Date());
    let tls: TlsMaterial = { cert: first.serving.certPem, key: first.serving.keyPem };
    const port = await start({ tls: () => tls });
    const before = await call(port, first.ca.certPem, "/healthz");
    const second = await generatePki(new Date());
    tls = { cert: second.serving.certPem, key: second.serving.keyPem };
    const after = await call(port, second.ca.certPem, "/healthz");
    expect(after.status).toBe(200);
    expect(after.fingerprint).not.toBe(before.fingerprint);
  });

  describe("watch", () => {
    it.each<[string, { version: string; next?: EntitlementChange }, string, number, unknown]>([
      ["answers at once when the version already differs", { version: "7" }, "6", 200, { version: "7", reason: "changed" }],
      ["answers at once on the first poll", { version: "7" }, "", 200, { version: "7", reason: "initial" }],
      ["answers when the entitlement changes", { version: "7", next: { version: "8", reason: "policy-changed" } }, "7", 200, { version: "8", reason: "policy-changed" }],
      ["answers 204 when nothing changes in time", { version: "7" }, "7", 204, undefined],
    ])("%s", async (_name, state, since, status, body) => {
      const pki = await generatePki(new Date());
      const tls = { cert: pki.serving.certPem, key: pki.serving.keyPem };
      const port = await start({ tls: () => tls, feed: feedOf(state) });
      const answer = await call(port, pki.ca.certPem, `/v1/watch?since=${since}`, { headers: { authorization: `Bearer ${token}` } });
      expect(answer.status).toBe(status);
      expect(answer.body).toEqual(body);
    });

    it("answers 410 when the pod is gone and 401 without a token", async () => {
      const pki = await generatePki(new Date());
      const tls = { cert: pki.serving.certPem, key: pki.serving.keyPem };
      const port = await start({ tls: () => tls, pods: [], feed: feedOf({ version: "1" }) });
      const gone = await call(port, pki.ca.certPem, "/v1/watch?since=1", { headers: { authorization: `Bearer ${token}` } });
      expect(gone).toMatchObject({ status: 410, body: { error: "invalid_grant" } });
      expect((await call(port, pki.ca.certPem, "/v1/watch")).status).toBe(401);
    });

    it("answers 503 temporarily_unavailable, without a Bearer challenge, when the token cannot be verified now", async () => {
      const pki = await generatePki(new Date());
      const tls = { cert: pki.serving.certPem, key: pki.serving.keyPem };
      const unavailable: SubjectVerifier = {
        ready: true,
        verify: () => Promise.reject(new IssuerError("UpstreamUnavailable", "the apiserver did not answer the TokenReview")),
      };
      const port = await start({ tls: () => tls, feed: feedOf({ version: "1" }), verifier: unavailable });
      const answer = await call(port, pki.ca.certPem, "/v1/watch?since=1", { headers: { authorization: `Bearer ${token}` } });
      expect(answer).toMatchObject({ status: 503, body: { error: "temporarily_unavailable" } });
      expect(answer.headers["www-authenticate"]).toBeUndefined();
    });
  });
});
