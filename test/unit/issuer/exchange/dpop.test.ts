// DPoP at the token endpoint: a valid proof binds the token (cnf.jkt, token_type DPoP), every bad proof is refused
// with invalid_dpop_proof, and a policy that requires binding never yields a bearer token.
import { randomUUID } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { GRANT_TYPE_TOKEN_EXCHANGE, PATH_TOKEN, TOKEN_TYPE_JWT } from "../../../../api/constants.ts";
import type { OAuthErrorResponse, TokenExchangeResponse } from "../../../../api/exchange.ts";
import type { Decider, DecideInput } from "../../../../controller/src/issuer/exchange/decider.ts";
import { createTokenExchange, type DpopHeader } from "../../../../controller/src/issuer/exchange/exchange.ts";
import { generateKeyRecord, loadSigningKey } from "../../../../controller/src/issuer/keys/keys.ts";
import { JwksSubjectVerifier } from "../../../../controller/src/issuer/subject/subject-verifier.ts";
import type { Decision } from "../../../../controller/src/policy/types.ts";
import { generateDpopSigner } from "../../../../sidecar/src/dpop-key.ts";
import { captureLogger } from "../capture-logger.ts";
import { keySetOf, NOW, projectedClaims, rsaClusterKey, RULES, signToken, TESSERA_ISSUER } from "../fixtures.ts";

const clusterKey = rsaClusterKey();
const signingKey = loadSigningKey(generateKeyRecord("ES256", NOW, NOW));
const TOKEN_URL = `${TESSERA_ISSUER.replace(/\/$/, "")}${PATH_TOKEN}`;
const nowSeconds = Math.floor(NOW.getTime() / 1000);

/** Audience "payments" is granted either way; "ledger" only as a bound token (the policy requires DPoP). */
const decider: Decider = {
  decide({ subject, request, id, now }: DecideInput): Decision {
    return {
      id,
      at: now.toISOString(),
      subject,
      request,
      evaluations: [],
      audiences: [],
      allowed: true,
      policy: { kind: "TokenPolicy", namespace: "shop", name: "api", generation: 1 },
      grant: {
        audiences: request.audiences,
        scopes: [],
        ttlSeconds: 300,
        claims: {},
        clamps: [],
        ...(request.audiences.includes("ledger") ? { dpopRequiredBy: ["TokenPolicy/shop/api"] } : {}),
      },
    };
  },
};

function setup() {
  const logs = captureLogger();
  const exchange = createTokenExchange({
    verifier: new JwksSubjectVerifier({ rules: RULES, keys: keySetOf(clusterKey), now: () => NOW }),
    pods: {
      get: () => ({ namespace: "shop", name: "api-0", uid: "pod-uid-1", serviceAccountName: "api", labels: {}, annotations: {}, nodeName: "node-a", phase: "Running" }),
    },
    namespaces: { get: (name) => ({ name, labels: {} }) },
    decider,
    keys: { current: () => signingKey, verificationKey: (kid) => (kid === signingKey.kid ? signingKey : undefined) },
    recorder: { record: () => undefined },
    cluster: { name: "eu-1", environment: "prod" },
    issuer: TESSERA_ISSUER,
    serviceAccountIssuer: RULES.issuer,
    liveness: { inactiveReason: () => Promise.resolve(undefined) },
    now: () => NOW,
    newId: () => randomUUID(),
    logger: logs.logger,
  });
  return { exchange, logs };
}

const form = (audience = "payments"): string =>
  new URLSearchParams({
    grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
    subject_token: signToken(clusterKey, projectedClaims()),
    subject_token_type: TOKEN_TYPE_JWT,
    audience,
  }).toString();

const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
const { privateKey: otherPrivate } = await generateKeyPair("ES256");
const publicJwk = await exportJWK(publicKey);
const jkt = await calculateJwkThumbprint(publicJwk);

function proof(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ htm: "POST", htu: TOKEN_URL, iat: nowSeconds, jti: randomUUID(), ...claims })
    .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: publicJwk, ...header })
    .sign(privateKey);
}

describe("DPoP at the token endpoint", () => {
  it("binds the token to the proof's key: cnf.jkt and token_type DPoP", async () => {
    const { exchange } = setup();
    const outcome = await exchange(form(), await proof());
    expect(outcome.status).toBe(200);
    const body = outcome.body as TokenExchangeResponse;
    expect(body.token_type).toBe("DPoP");
    expect(decodeJwt(body.access_token)["cnf"]).toEqual({ jkt });
  });

  it("binds to the sidecar's in-memory key through its own proofs", async () => {
    const { exchange } = setup();
    const signer = generateDpopSigner({ now: () => NOW });
    const outcome = await exchange(form("ledger"), signer.proof({ method: "POST", url: TOKEN_URL }));
    expect(outcome.status).toBe(200);
    expect(decodeJwt((outcome.body as TokenExchangeResponse).access_token)["cnf"]).toEqual({ jkt: signer.jkt });
  });

  it("issues a bearer token without cnf when no proof is sent and the policy does not require one", async () => {
    const { exchange } = setup();
    const body = (await exchange(form())).body as TokenExchangeResponse;
    expect(body.token_type).toBe("Bearer");
    expect(decodeJwt(body.access_token)).not.toHaveProperty("cnf");
  });

  it("never issues a bearer token under a policy that requires binding", async () => {
    const { exchange } = setup();
    const outcome = await exchange(form("ledger"));
    expect(outcome.status).toBe(400);
    expect((outcome.body as OAuthErrorResponse).error).toBe("invalid_dpop_proof");
    expect((outcome.body as OAuthErrorResponse).error_description).toMatch(/TokenPolicy\/shop\/api allows ledger only as DPoP-bound tokens/);
  });

  it("refuses a proof used a second time", async () => {
    const { exchange } = setup();
    const p = await proof();
    expect((await exchange(form(), p)).status).toBe(200);
    const again = await exchange(form(), p);
    expect([again.status, (again.body as OAuthErrorResponse).error]).toEqual([400, "invalid_dpop_proof"]);
  });

  const bad: readonly (readonly [string, () => Promise<DpopHeader>])[] = [
    ["a proof for another URL", () => proof({ htu: "https://elsewhere.example/v1/token" })],
    ["a proof for another method", () => proof({ htm: "GET" })],
    ["a proof older than a minute", () => proof({ iat: nowSeconds - 120 })],
    ["a proof from the future", () => proof({ iat: nowSeconds + 120 })],
    ["a proof without jti", () => proof({ jti: undefined })],
    ["a proof with typ JWT", () => proof({}, { typ: "JWT" })],
    ["a proof signed with HS256", () => new SignJWT({ htm: "POST", htu: TOKEN_URL, iat: nowSeconds, jti: "x" }).setProtectedHeader({ alg: "HS256", typ: "dpop+jwt", jwk: publicJwk }).sign(new Uint8Array(32))],
    ["a proof whose jwk carries the private key", async () => proof({}, { jwk: { ...(await exportJWK(privateKey)) } })],
    ["a proof signed by a key other than its jwk", () => new SignJWT({ htm: "POST", htu: TOKEN_URL, iat: nowSeconds, jti: "y" }).setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: publicJwk }).sign(otherPrivate)],
    ["two DPoP headers", async () => [await proof(), await proof()]],
    ["a proof that is not a JWS", () => Promise.resolve("not-a-proof")],
    ["a proof longer than 4 KiB", () => Promise.resolve(`${"a".repeat(5000)}.b.c`)],
  ];
  it.each(bad)("refuses %s with invalid_dpop_proof, never a token", async (_name, header) => {
    const { exchange } = setup();
    const outcome = await exchange(form(), await header());
    expect(outcome.status).toBe(400);
    expect((outcome.body as OAuthErrorResponse).error).toBe("invalid_dpop_proof");
  });

  it("never logs a proof or a token", async () => {
    const { exchange, logs } = setup();
    const p = await proof();
    await exchange(form(), p);
    await exchange(form(), p);
    await exchange(form("ledger"));
    const text = logs.text();
    expect(text).not.toContain(p.split(".")[2] ?? "");
    expect(text).not.toMatch(/eyJ[\w-]{10,}\.eyJ[\w-]{10,}/);
  });
});
