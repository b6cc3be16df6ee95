// Verifying Tessera's own access tokens: typ, key, algorithm, signature, issuer, audience and lifetime, and the act chain.
import { createHmac } from "node:crypto";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { CLAIM_NAMESPACE, CLAIM_SERVICE_ACCOUNT } from "../../../../api/constants.ts";
import { isIssuerError } from "../../../../controller/src/issuer/errors.ts";
import {
  actClaimFor,
  actorsFromActClaim,
  verifyAccessToken,
  type AccessTokenRules,
  type TesseraKeyLookup,
} from "../../../../controller/src/issuer/keys/access-token.ts";
import { generateKeyRecord, loadSigningKey, signJws, type SigningKey } from "../../../../controller/src/issuer/keys/keys.ts";
import type { Actor } from "../../../../controller/src/policy/types.ts";
import { NOW, NOW_S, TESSERA_ISSUER, rsaClusterKey, signToken } from "../fixtures.ts";

const AUDIENCE = "https://orders.example";
const RULES: AccessTokenRules = { issuer: TESSERA_ISSUER, audience: AUDIENCE, leewaySeconds: 30 };

const es256 = loadSigningKey(generateKeyRecord("ES256", NOW, NOW));
const eddsa = loadSigningKey(generateKeyRecord("EdDSA", NOW, NOW));
/** A key Tessera does not publish. */
const stranger = loadSigningKey(generateKeyRecord("ES256", NOW, NOW));

const KEYS: TesseraKeyLookup = {
  verificationKey: (kid) => [es256, eddsa].find((k) => k.kid === kid),
};

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: TESSERA_ISSUER,
    sub: "system:serviceaccount:shop:api",
    aud: AUDIENCE,
    iat: NOW_S - 10,
    nbf: NOW_S - 10,
    exp: NOW_S + 300,
    jti: "3f2b7c1e-0000-4000-8000-000000000001",
    [CLAIM_NAMESPACE]: "shop",
    [CLAIM_SERVICE_ACCOUNT]: "api",
    ...overrides,
  };
}

/** Signs like the issuer does; header members can be overridden (or removed with undefined). */
function mint(key: SigningKey, payload: Record<string, unknown> = claims(), header: Record<string, unknown> = {}): string {
  const input = `${b64({ alg: key.alg, typ: "at+jwt", kid: key.kid, ...header })}.${b64(payload)}`;
  return `${input}.${signJws(key, Buffer.from(input, "ascii")).toString("base64url")}`;
}

function outcome(token: string, nowSeconds = NOW_S): string {
  try {
    verifyAccessToken(token, KEYS, RULES, nowSeconds);
    return "ok";
  } catch (error) {
    if (isIssuerError(error)) return error.code;
    throw error;
  }
}

function withPayload(token: string, payload: Record<string, unknown>): string {
  const [h, , s] = token.split(".");
  return `${h ?? ""}.${b64(payload)}.${s ?? ""}`;
}

describe("verifyAccessToken", () => {
  it.each([es256, eddsa])("returns the claims of a valid $alg token", (key) => {
    const verified = verifyAccessToken(mint(key), KEYS, RULES, NOW_S);
    expect(verified).toEqual({
      claims: claims(),
      sub: "system:serviceaccount:shop:api",
      jti: "3f2b7c1e-0000-4000-8000-000000000001",
      iat: NOW_S - 10,
      exp: NOW_S + 300,
    });
  });

  it("accepts a token signed by jose with a published key", async () => {
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: es256.kid })
      .sign(es256.privateKey);
    expect(verifyAccessToken(token, KEYS, RULES, NOW_S).sub).toBe("system:serviceaccount:shop:api");
  });

  it.each<[string, () => string, number?]>([
    ["typ in capitals", () => mint(es256, claims(), { typ: "AT+JWT" })],
    ["typ as the full media type", () => mint(es256, claims(), { typ: "application/at+jwt" })],
    ["aud as an array holding the audience", () => mint(es256, claims({ aud: ["https://other.example", AUDIENCE] }))],
    ["no nbf", () => mint(es256, claims({ nbf: undefined }))],
    ["an exp passed by less than the leeway", () => mint(es256, claims({ exp: NOW_S - 29 }))],
    ["an nbf ahead by exactly the leeway", () => mint(es256, claims({ nbf: NOW_S + 30 }))],
    ["the clock a second before exp", () => mint(es256), NOW_S + 299],
  ])("accepts a token with %s", (_case, token, now) => {
    expect(outcome(token(), now)).toBe("ok");
  });

  it.each<[string, () => string, string]>([
    ["a token that is not a compact JWS", () => "not.a-jws", "TokenMalformed"],
    ["an unsigned token", () => mint(es256).replace(/\.[^.]+$/, "."), "TokenMalformed"],
    ["no typ", () => mint(es256, claims(), { typ: undefined }), "TokenKindMismatch"],
    ["typ JWT (a projected service-account token)", () => mint(es256, claims(), { typ: "JWT" }), "TokenKindMismatch"],
    ["no kid", () => mint(es256, claims(), { kid: undefined }), "TokenKeyUnknown"],
    ["a numeric kid", () => mint(es256, claims(), { kid: 1 }), "TokenKeyUnknown"],
    ["the kid of a key Tessera does not publish", () => mint(stranger), "TokenKeyUnknown"],
    ["alg none under a published kid", () => mint(es256, claims(), { alg: "none" }), "TokenAlgorithmNotAllowed"],
    ["alg EdDSA under the kid of an ES256 key", () => mint(es256, claims(), { alg: "EdDSA" }), "TokenAlgorithmNotAllowed"],
    ["alg ES256 under the kid of an EdDSA key", () => mint(eddsa, claims(), { alg: "ES256" }), "TokenAlgorithmNotAllowed"],
    [
      "alg RS256, signed by an RSA key, under the kid of an ES256 key",
      () => signToken({ ...rsaClusterKey(es256.kid) }, claims(), { typ: "at+jwt" }),
      "TokenAlgorithmNotAllowed",
    ],
    [
      "alg HS256 keyed with the published public key",
      () => {
        const input = `${b64({ alg: "HS256", typ: "at+jwt", kid: es256.kid })}.${b64(claims())}`;
        const secret = es256.publicKey.export({ type: "spki", format: "pem" });
        return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
      },
      "TokenAlgorithmNotAllowed",
    ],
    ["a signature by another key under a published kid", () => mint({ ...stranger, kid: es256.kid }), "TokenSignatureInvalid"],
    ["a payload changed after signing", () => withPayload(mint(es256), claims({ sub: "system:serviceaccount:shop:admin" })), "TokenSignatureInvalid"],
    ["an issuer changed after signing (the signature is checked first)", () => withPayload(mint(es256), claims({ iss: "https://evil.example" })), "TokenSignatureInvalid"],
    ["another issuer", () => mint(es256, claims({ iss: "https://kubernetes.default.svc" })), "TokenIssuerMismatch"],
    ["no issuer", () => mint(es256, claims({ iss: undefined })), "TokenIssuerMismatch"],
    ["another audience", () => mint(es256, claims({ aud: "https://payments.example" })), "TokenAudienceMismatch"],
    ["an audience array without it", () => mint(es256, claims({ aud: ["https://payments.example"] })), "TokenAudienceMismatch"],
    ["no audience", () => mint(es256, claims({ aud: undefined })), "TokenAudienceMismatch"],
    ["an audience that is an object", () => mint(es256, claims({ aud: { [AUDIENCE]: true } })), "TokenAudienceMismatch"],
    ["no exp", () => mint(es256, claims({ exp: undefined })), "TokenClaimsMissing"],
    ["exp as a string", () => mint(es256, claims({ exp: String(NOW_S + 300) })), "TokenClaimsMissing"],
    ["no iat", () => mint(es256, claims({ iat: undefined })), "TokenClaimsMissing"],
    ["no sub", () => mint(es256, claims({ sub: undefined })), "TokenClaimsMissing"],
    ["no jti", () => mint(es256, claims({ jti: undefined })), "TokenClaimsMissing"],
    ["an exp passed by exactly the leeway", () => mint(es256, claims({ exp: NOW_S - 30 })), "TokenExpired"],
    ["an exp passed long ago", () => mint(es256, claims({ exp: NOW_S - 3600, iat: NOW_S - 7200, nbf: NOW_S - 7200 })), "TokenExpired"],
    ["an nbf ahead by more than the leeway", () => mint(es256, claims({ nbf: NOW_S + 31 })), "TokenNotYetValid"],
  ])("refuses a token with %s", (_case, token, code) => {
    expect(outcome(token())).toBe(code);
  });

  it("refuses a token once the clock reaches exp plus the leeway", () => {
    const token = mint(es256);
    expect([outcome(token, NOW_S + 329), outcome(token, NOW_S + 330)]).toEqual(["ok", "TokenExpired"]);
  });
});

describe("the act claim", () => {
  const planner: Actor = { sub: "system:serviceaccount:agents:planner", iss: "https://kubernetes.default.svc", serviceAccount: { namespace: "agents", name: "planner" } };
  const gateway: Actor = { sub: "gateway", iss: TESSERA_ISSUER };

  it.each<[string, readonly Actor[]]>([
    ["one actor", [planner]],
    ["two actors, current first", [gateway, planner]],
  ])("round-trips a chain of %s", (_case, actors) => {
    expect(actorsFromActClaim(actClaimFor(actors))).toEqual(actors);
  });

  it("nests the chain with the current actor outermost", () => {
    expect(actClaimFor([gateway, planner])).toEqual({
      sub: "gateway",
      iss: TESSERA_ISSUER,
      act: { sub: planner.sub, iss: planner.iss, [CLAIM_NAMESPACE]: "agents", [CLAIM_SERVICE_ACCOUNT]: "planner" },
    });
  });

  it("has no act claim, and no actors, for a direct exchange", () => {
    expect([actClaimFor([]), actorsFromActClaim(undefined)]).toEqual([undefined, []]);
  });

  it.each<[string, unknown]>([
    ["a string", "planner"],
    ["null", null],
    ["an actor without iss", { sub: "planner" }],
    ["an actor without sub", { iss: TESSERA_ISSUER }],
    ["a nested actor without sub", { sub: "a", iss: TESSERA_ISSUER, act: { iss: TESSERA_ISSUER } }],
    [
      "a chain deeper than 16",
      Array.from({ length: 17 }).reduce<unknown>((act) => ({ sub: "a", iss: TESSERA_ISSUER, ...(act === undefined ? {} : { act }) }), undefined),
    ],
  ])("refuses an act claim that is %s", (_case, act) => {
    expect(() => actorsFromActClaim(act)).toThrow(expect.toSatisfy((e) => isIssuerError(e, "ActorInvalid")));
  });

  it("accepts a chain of exactly 16", () => {
    const act = Array.from({ length: 16 }).reduce<unknown>((inner) => ({ sub: "a", iss: TESSERA_ISSUER, ...(inner === undefined ? {} : { act: inner }) }), undefined);
    expect(actorsFromActClaim(act)).toHaveLength(16);
  });
});
