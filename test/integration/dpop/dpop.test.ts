// DPoP end to end against the real control plane, controller, issuer and sidecar process: the kit-protected payments
// API serves the pod's bound token with the sidecar's proof and refuses every replay of it; an independent client
// (oauth4webapi) obtains and uses a bound token; an independent verifier (PyJWT) checks cnf.jkt against a proof.
import { execFile } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT } from "jose";
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  API_GROUP,
  API_VERSION,
  DEFAULT_TESSERA_AUDIENCE,
  GRANT_TYPE_TOKEN_EXCHANGE,
  RESOURCE_TOKEN_POLICIES,
  SIDECAR_GUARD_HEADER,
  SIDECAR_PATH_PROOF,
  TOKEN_TYPE_JWT,
} from "../../../api/constants.ts";
import { accessTokenHash } from "../../../api/dpop.ts";
import type { ControllerCore } from "../../../controller/src/reconcile/controller.ts";
import type { PolicySet } from "../../../controller/src/policy/index.ts";
import type { CompiledResource } from "../../../controller/src/app/engine-adapters.ts";
import { paymentsApi } from "../../../examples/payments-api/app.ts";
import { createVerifier, httpsFetch } from "../../../verify/index.ts";
import { loadControlPlaneConfig } from "../../controlplane/config.ts";
import { freeLoopbackPorts } from "../../controlplane/ports.ts";
import { ensurePythonEnv } from "../../controlplane/python-env.ts";
import { startController } from "../controller/start-controller.ts";
import { startSidecarProcess, type SidecarProcess } from "../sidecar/sidecar-process.ts";
import { startIssuerWithFeed, type IssuerHandle } from "../sidecar/stack.ts";
import { applyCrds, createPod, createServiceAccount, freshNamespace, kubeClients, mintProjectedToken, waitFor, writeProjectedTokenFile } from "../support/index.ts";

const PAYMENTS = "https://payments.internal.example";
const PYTHON_REQUIREMENTS = join(import.meta.dirname, "../issuer/requirements.txt");
const PY_SCRIPT = join(import.meta.dirname, "verify_dpop.py");
const clients = kubeClients();

let core: ControllerCore<CompiledResource, PolicySet>;
let issuer: IssuerHandle;
let sidecar: SidecarProcess;
let dir: string;
let ns: string;
let pod: Awaited<ReturnType<typeof createPod>>;
let api: http.Server;
let apiWithNonces: http.Server;
let origin: string;
let nonceOrigin: string;
/** Every token and proof this run handled, to be absent from the sidecar's logs. */
const secrets: string[] = [];

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve(`http://127.0.0.1:${String((server.address() as AddressInfo).port)}`);
    });
  });
}

/** POST /v1/proof on the sidecar, as the workload does before each call. */
function sidecarProof(body: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = http.request(
      {
        host: "127.0.0.1",
        port: sidecar.port,
        path: SIDECAR_PATH_PROOF,
        method: "POST",
        headers: { host: `127.0.0.1:${String(sidecar.port)}`, [SIDECAR_GUARD_HEADER]: "true", "content-type": "application/json" },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode !== 200) reject(new Error(`POST /v1/proof answered ${String(res.statusCode)}: ${text}`));
          else {
            const proof = (JSON.parse(text) as { proof: string }).proof;
            secrets.push(proof);
            resolve(proof);
          }
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

async function boundToken(): Promise<string> {
  const res = await sidecar.token("name=payments");
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  expect(res.json["token_type"]).toBe("DPoP");
  const token = res.json["access_token"] as string;
  secrets.push(token);
  return token;
}

async function charge(headers: Record<string, string>, path = "/v1/charges", method = "POST", base = origin) {
  const res = await fetch(`${base}${path}`, { method, headers });
  return { status: res.status, challenge: res.headers.get("www-authenticate"), body: (await res.json()) as Record<string, unknown>, nonce: res.headers.get("dpop-nonce") };
}

beforeAll(async () => {
  await applyCrds(clients);
  const controllerNs = await freshNamespace("tessera-system");
  ns = await freshNamespace("dpop");
  await createServiceAccount(ns, "checkout-api", clients);
  core = await startController(clients.kubeConfig, controllerNs, "dpop-it");
  await waitFor(() => core.leader.isLeader(), { description: "the controller to lead" });
  await clients.custom.createNamespacedCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    namespace: ns,
    plural: RESOURCE_TOKEN_POLICIES,
    body: {
      apiVersion: `${API_GROUP}/${API_VERSION}`,
      kind: "TokenPolicy",
      metadata: { name: "checkout-to-payments", namespace: ns },
      spec: {
        owner: { team: "checkout" },
        subjects: { serviceAccounts: ["checkout-api"] },
        audiences: [PAYMENTS],
        scopes: { allowed: ["payments.read", "payments.charge"], default: ["payments.read", "payments.charge"] },
        claims: [{ name: "tenant", expression: '"acme"' }],
        ttlSeconds: 300,
        requireDPoP: true,
      },
    },
  });
  pod = await createPod(ns, { name: "checkout-api-0", serviceAccountName: "checkout-api" }, clients);
  const [issuerPort, sidecarPort] = await freeLoopbackPorts(2);
  issuer = await startIssuerWithFeed(core, controllerNs, issuerPort ?? 0);
  dir = await mkdtemp(join(tmpdir(), "tessera-dpop-it-"));
  await writeFile(join(dir, "ca.crt"), issuer.caPem);
  const subject = await mintProjectedToken({ namespace: ns, serviceAccount: "checkout-api", pod, audience: DEFAULT_TESSERA_AUDIENCE, expirationSeconds: 3600 });
  secrets.push(subject);
  await writeProjectedTokenFile(join(dir, "subject"), subject);
  sidecar = startSidecarProcess({
    issuerUrl: issuer.url,
    caFile: join(dir, "ca.crt"),
    subjectTokenFile: join(dir, "subject", "token"),
    tokenDir: dir,
    tokens: [{ name: "payments", audience: PAYMENTS }],
    port: sidecarPort ?? 0,
  });
  await waitFor(async () => (await sidecar.get("/readyz").catch(() => ({ status: 0 }))).status === 200, {
    timeoutMs: 30_000,
    description: "the sidecar to hold its first (bound) token",
  });
  const fetchFromIssuer = httpsFetch({ ca: issuer.caPem });
  // The origin a proof names is the API's own (configured): each server is listening before its app is built.
  api = http.createServer();
  origin = await listen(api);
  api.on("request", paymentsApi({ verifier: createVerifier({ issuer: issuer.url, audience: PAYMENTS, fetch: fetchFromIssuer }), origin }));
  apiWithNonces = http.createServer();
  nonceOrigin = await listen(apiWithNonces);
  apiWithNonces.on(
    "request",
    paymentsApi({ verifier: createVerifier({ issuer: issuer.url, audience: PAYMENTS, fetch: fetchFromIssuer, dpop: { requireNonce: true } }), origin: nonceOrigin }),
  );
});

afterAll(async () => {
  api.close();
  apiWithNonces.close();
  await sidecar.terminate();
  await issuer.stop();
  await core.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("a DPoP-bound token from the sidecar at the kit-protected payments API", () => {
  it("is bound to the sidecar's key: the legitimate call with the sidecar's proof succeeds", async () => {
    const token = await boundToken();
    expect((decodeJwt(token)["cnf"] as { jkt?: unknown }).jkt).toMatch(/^[\w-]{43}$/);
    const proof = await sidecarProof({ method: "POST", url: `${origin}/v1/charges`, access_token: token });
    const res = await charge({ authorization: `DPoP ${token}`, dpop: proof });
    expect([res.status, res.body["binding"], res.body["tenant"]]).toEqual([201, "DPoP", "acme"]);
  });

  it("is never issued as a bearer token: an exchange without a proof is refused", async () => {
    const subject = await readFile(join(dir, "subject", "token"), "utf8");
    const res = await httpsFetch({ ca: issuer.caPem })(`${issuer.url}/v1/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: GRANT_TYPE_TOKEN_EXCHANGE, subject_token: subject, subject_token_type: TOKEN_TYPE_JWT, audience: PAYMENTS }).toString(),
    });
    const body = (await res.json()) as { error: string; error_description: string };
    expect([res.status, body.error]).toEqual([400, "invalid_dpop_proof"]);
    expect(body.error_description).toContain("only as DPoP-bound tokens");
  });

  const stolen: readonly (readonly [string, (token: string) => Promise<Record<string, string>>, number, string])[] = [
    ["copied out of the pod and replayed with no proof", (t) => Promise.resolve({ authorization: `DPoP ${t}` }), 401, "invalid_dpop_proof"],
    ["replayed as a plain bearer token", (t) => Promise.resolve({ authorization: `Bearer ${t}` }), 401, "invalid_token"],
    [
      "replayed with a proof from another key",
      async (t) => {
        const { privateKey, publicKey } = await generateKeyPair("ES256");
        const proof = await new SignJWT({ htm: "POST", htu: `${origin}/v1/charges`, iat: Math.floor(Date.now() / 1000), jti: crypto.randomUUID(), ath: accessTokenHash(t) })
          .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: await exportJWK(publicKey) })
          .sign(privateKey);
        return { authorization: `DPoP ${t}`, dpop: proof };
      },
      401,
      "invalid_dpop_proof",
    ],
    ["replayed with the sidecar's proof for another URL", async (t) => ({ authorization: `DPoP ${t}`, dpop: await sidecarProof({ method: "POST", url: `${origin}/v1/refunds`, access_token: t }) }), 401, "invalid_dpop_proof"],
    ["replayed with the sidecar's proof for another method", async (t) => ({ authorization: `DPoP ${t}`, dpop: await sidecarProof({ method: "GET", url: `${origin}/v1/charges`, access_token: t }) }), 401, "invalid_dpop_proof"],
    ["replayed with the sidecar's proof for another API", async (t) => ({ authorization: `DPoP ${t}`, dpop: await sidecarProof({ method: "POST", url: `https://ledger.internal.example/v1/charges`, access_token: t }) }), 401, "invalid_dpop_proof"],
  ];
  it.each(stolen)("is refused by the kit when %s", async (_name, headers, status, error) => {
    const res = await charge(await headers(await boundToken()));
    expect([res.status, res.body["error"]]).toEqual([status, error]);
    expect(res.challenge).toMatch(/DPoP algs="ES256 EdDSA"/);
  });

  it("is refused with a proof that was already used once", async () => {
    const token = await boundToken();
    const proof = await sidecarProof({ method: "POST", url: `${origin}/v1/charges`, access_token: token });
    expect((await charge({ authorization: `DPoP ${token}`, dpop: proof })).status).toBe(201);
    const replay = await charge({ authorization: `DPoP ${token}`, dpop: proof });
    expect([replay.status, replay.body["error"]]).toEqual([401, "invalid_dpop_proof"]);
  });

  it("passes at an API that requires nonces once the proof carries the nonce it handed out", async () => {
    const token = await boundToken();
    const first = await charge({ authorization: `DPoP ${token}`, dpop: await sidecarProof({ method: "POST", url: `${nonceOrigin}/v1/charges`, access_token: token }) }, "/v1/charges", "POST", nonceOrigin);
    expect([first.status, first.body["error"]]).toEqual([401, "use_dpop_nonce"]);
    expect(first.nonce).toMatch(/^[\w-]+$/);
    const proof = await sidecarProof({ method: "POST", url: `${nonceOrigin}/v1/charges`, access_token: token, nonce: first.nonce ?? "" });
    expect((await charge({ authorization: `DPoP ${token}`, dpop: proof }, "/v1/charges", "POST", nonceOrigin)).status).toBe(201);
  });

  it("never appears in the sidecar's logs, nor does its key or a proof", () => {
    const logs = sidecar.output();
    for (const secret of secrets) expect(logs).not.toContain(secret.split(".")[2] ?? secret);
    expect(logs).not.toMatch(/"d":"/);
  });
});

describe("interoperability", () => {
  it("lets an independent client (oauth4webapi) obtain a DPoP-bound token from the issuer and call the kit-protected API", async () => {
    const issuerUrl = new URL(issuer.url);
    const viaCa = httpsFetch({ ca: issuer.caPem });
    // oauth4webapi's fetch hook passes `body: undefined` for a GET, which RequestInit (with exact optional types) does not allow.
    const trusted = (url: string, options: { method: string; headers: Record<string, string>; body?: unknown; redirect: "manual"; signal?: AbortSignal }) =>
      viaCa(url, { method: options.method, headers: options.headers, ...(typeof options.body === "string" || options.body instanceof URLSearchParams ? { body: options.body } : {}) });
    const as = await oauth.processDiscoveryResponse(issuerUrl, await oauth.discoveryRequest(issuerUrl, { algorithm: "oauth2", [oauth.customFetch]: trusted }));
    expect(as.dpop_signing_alg_values_supported).toEqual(["ES256", "EdDSA"]);
    const client: oauth.Client = { client_id: `system:serviceaccount:${ns}:checkout-api` };
    const keyPair = await oauth.generateKeyPair("ES256");
    const DPoP = oauth.DPoP(client, keyPair);
    const subject = await mintProjectedToken({ namespace: ns, serviceAccount: "checkout-api", pod, audience: DEFAULT_TESSERA_AUDIENCE });
    const response = await oauth.genericTokenEndpointRequest(
      as,
      client,
      oauth.None(),
      GRANT_TYPE_TOKEN_EXCHANGE,
      { subject_token: subject, subject_token_type: TOKEN_TYPE_JWT, audience: PAYMENTS },
      { DPoP, [oauth.customFetch]: trusted },
    );
    const tokens = await oauth.processGenericTokenEndpointResponse(as, client, response);
    expect(tokens.token_type).toBe("dpop");
    expect(decodeJwt(tokens.access_token)["cnf"]).toEqual({ jkt: await calculateJwkThumbprint(await exportJWK(keyPair.publicKey)) });
    // The APIs under test listen on plain HTTP on loopback; oauth4webapi marks allowing that as deprecated on purpose.
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    const options = { DPoP, [oauth.allowInsecureRequests]: true } as const;
    const call = await oauth.protectedResourceRequest(tokens.access_token, "POST", new URL(`${origin}/v1/charges`), new Headers(), null, options);
    expect(call.status).toBe(201);
    // Its own nonce handling works against an API that requires nonces: the first call learns it, the retry passes.
    const nonceUrl = new URL(`${nonceOrigin}/v1/charges`);
    let answer = await oauth.protectedResourceRequest(tokens.access_token, "POST", nonceUrl, new Headers(), null, options).catch((error: unknown) => {
      if (oauth.isDPoPNonceError(error)) return undefined;
      throw error;
    });
    answer ??= await oauth.protectedResourceRequest(tokens.access_token, "POST", nonceUrl, new Headers(), null, options);
    expect(answer.status).toBe(201);
  });

  it("lets an independent verifier in Python (PyJWT) check a bound token's cnf.jkt against the sidecar's proof, and refuse another key's", async () => {
    const python = await ensurePythonEnv({ cacheDir: loadControlPlaneConfig(process.env).cacheDir, requirementsFile: PYTHON_REQUIREMENTS });
    const token = await boundToken();
    const url = `${origin}/v1/charges?id=7`;
    const good = await sidecarProof({ method: "POST", url, access_token: token });
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const foreign = await new SignJWT({ htm: "POST", htu: url, iat: Math.floor(Date.now() / 1000), jti: "x", ath: accessTokenHash(token) })
      .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: await exportJWK(publicKey) })
      .sign(privateKey);
    const cases = [
      { token, proof: good, method: "POST", url },
      { token, proof: foreign, method: "POST", url },
      { token, proof: good, method: "GET", url },
    ];
    const results = await new Promise<{ jkt?: string; error?: string }[]>((resolve, reject) => {
      const child = execFile(python, [PY_SCRIPT, issuer.url, join(dir, "ca.crt"), PAYMENTS], (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`verify_dpop.py failed: ${stderr}`, { cause: error }));
        else resolve(JSON.parse(stdout) as { jkt?: string; error?: string }[]);
      });
      child.stdin?.end(JSON.stringify(cases));
    });
    expect(results[0]).toEqual({ jkt: (decodeJwt(token)["cnf"] as { jkt: string }).jkt });
    expect(results[1]?.error).toMatch(/cnf\.jkt/);
    expect(results[2]?.error).toMatch(/htm/);
  });
});
