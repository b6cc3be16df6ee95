// The verifier's decisions on tokens and DPoP proofs: every refusal has its code, and the legitimate request passes.
import { generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { createVerifier, isVerifyError, type VerifyErrorCode } from "../../../verify/index.ts";
import { API_URL, AUDIENCE, dpopKey, ISSUER, testIssuer, verifierFor } from "./fixtures.ts";

const NOW = new Date("2026-12-03T12:00:00Z");
const now = (): Date => NOW;
const nowSeconds = Math.floor(NOW.getTime() / 1000);

async function codeOf(promise: Promise<unknown>): Promise<VerifyErrorCode | "passed"> {
  try {
    await promise;
    return "passed";
  } catch (error) {
    if (isVerifyError(error)) return error.code;
    throw error;
  }
}

describe("bearer tokens", async () => {
  const issuer = await testIssuer(now);
  const verifier = verifierFor(issuer, now);
  const { privateKey: otherKey } = await generateKeyPair("ES256");
  const cases: readonly (readonly [string, () => Promise<string>, VerifyErrorCode | "passed"])[] = [
    ["a token the issuer signed for this audience passes", () => issuer.mint(), "passed"],
    ["a token for another audience is refused", () => issuer.mint({ aud: "ledger" }), "TokenAudienceMismatch"],
    ["a token from another issuer is refused", () => issuer.mint({ iss: "https://evil.test" }), "TokenIssuerMismatch"],
    ["an expired token is refused", () => issuer.mint({ exp: nowSeconds - 120 }), "TokenExpired"],
    ["a token not valid yet is refused", () => issuer.mint({ nbf: nowSeconds + 600 }), "TokenNotYetValid"],
    ["a token issued in the future is refused", () => issuer.mint({ iat: nowSeconds + 600, nbf: undefined }), "TokenNotYetValid"],
    ["a token without jti is refused", () => issuer.mint({ jti: undefined }), "TokenClaimsInvalid"],
    ["a token without client_id is refused", () => issuer.mint({ client_id: undefined }), "TokenClaimsInvalid"],
    ["an ID token (typ JWT) is refused", () => issuer.mint({}, { typ: "JWT" }), "TokenTypeInvalid"],
    ["a token signed by an unknown key is refused", () => new SignJWT({ iss: ISSUER, aud: AUDIENCE }).setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: "k9" }).sign(otherKey), "TokenKeyUnknown"],
    ["a token with a forged signature under a known kid is refused", () => new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: "x", exp: nowSeconds + 60, iat: nowSeconds, jti: "j", client_id: "x" }).setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: "k1" }).sign(otherKey), "TokenSignatureInvalid"],
    ["an unsigned token (alg none) is refused", () => Promise.resolve(`${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString("base64url")}.${Buffer.from(JSON.stringify({ iss: ISSUER, aud: AUDIENCE })).toString("base64url")}.`), "TokenAlgorithmNotAllowed"],
    ["a token that is not a JWT is refused", () => Promise.resolve("not-a-token"), "TokenMalformed"],
    ["a token bound by a cnf the kit cannot honour is refused", () => issuer.mint({ cnf: { "x5t#S256": "abc" } }), "TokenClaimsInvalid"],
  ];
  it.each(cases)("%s", async (_name, token, expected) => {
    expect(await codeOf(verifier.verifyRequest({ authorization: `Bearer ${await token()}`, dpop: undefined, method: "POST", url: API_URL }))).toBe(expected);
  });

  it("returns Tessera's claims typed, the act chain outermost first", async () => {
    const token = await issuer.mint({ act: { sub: "agent", iss: ISSUER, act: { sub: "pipeline" } }, "tessera.dev/pod": { name: "p", uid: "u", namespace: "shop" } });
    const verified = await verifier.verifyRequest({ authorization: `Bearer ${token}`, dpop: undefined, method: "GET", url: API_URL });
    expect(verified.binding).toBe("Bearer");
    expect(verified.token.scopes).toEqual(["payments:charge"]);
    expect(verified.token.actors).toEqual([{ sub: "agent", iss: ISSUER }, { sub: "pipeline" }]);
    expect(verified.token.pod).toEqual({ name: "p", uid: "u", namespace: "shop" });
    expect(verified.token.namespace).toBe("shop");
  });

  it("fetches discovery and keys once for many tokens", async () => {
    const counting = await testIssuer(now);
    const v = verifierFor(counting, now);
    for (let i = 0; i < 5; i += 1) await v.verifyToken(await counting.mint());
    expect(counting.fetches()).toBe(2);
  });

  it("refuses an issuer whose discovery document names another issuer", async () => {
    const lying = (() => Promise.resolve(Response.json({ issuer: "https://evil.test", jwks_uri: "https://evil.test/jwks" }))) as unknown as typeof fetch;
    const v = createVerifier({ issuer: ISSUER, audience: AUDIENCE, fetch: lying, now });
    expect(await codeOf(v.verifyToken(await issuer.mint()))).toBe("IssuerUnavailable");
  });

  it("refuses only DPoP-bound tokens when bearer tokens are not allowed", async () => {
    const v = verifierFor(issuer, now, { allowBearer: false });
    expect(await codeOf(v.verifyRequest({ authorization: `Bearer ${await issuer.mint()}`, dpop: undefined, method: "GET", url: API_URL }))).toBe("TokenBindingMismatch");
  });

  it("rejects caller mistakes in the options with a TypeError", () => {
    expect(() => createVerifier({ issuer: "http://issuer", audience: "" })).toThrow(TypeError);
  });
});

describe("DPoP-bound tokens", async () => {
  const issuer = await testIssuer(now);
  const key = await dpopKey(now);
  const thief = await dpopKey(now);
  const bound = await issuer.mint({ cnf: { jkt: key.jkt } });

  const cases: readonly (readonly [string, () => Promise<{ scheme: string; proof?: string | string[] }>, VerifyErrorCode | "passed"])[] = [
    ["a proof by the bound key for this request passes", async () => ({ scheme: "DPoP", proof: await key.proof({ method: "POST", url: API_URL, token: bound }) }), "passed"],
    ["a proof whose htu carries a query still matches the path", async () => ({ scheme: "DPoP", proof: await key.proof({ method: "POST", url: `${API_URL}?x=1`, token: bound }) }), "passed"],
    ["the bound token sent as a bearer token is refused", () => Promise.resolve({ scheme: "Bearer" }), "TokenBindingMismatch"],
    ["the bound token without a proof is refused", () => Promise.resolve({ scheme: "DPoP" }), "ProofMissing"],
    ["a proof by another key is refused", async () => ({ scheme: "DPoP", proof: await thief.proof({ method: "POST", url: API_URL, token: bound }) }), "ProofKeyMismatch"],
    ["a proof for another method is refused", async () => ({ scheme: "DPoP", proof: await key.proof({ method: "GET", url: API_URL, token: bound }) }), "ProofTargetMismatch"],
    ["a proof for another URL is refused", async () => ({ scheme: "DPoP", proof: await key.proof({ method: "POST", url: "https://payments.shop.test/v1/refunds", token: bound }) }), "ProofTargetMismatch"],
    ["a proof for another host is refused", async () => ({ scheme: "DPoP", proof: await key.proof({ method: "POST", url: "https://ledger.shop.test/v1/charges", token: bound }) }), "ProofTargetMismatch"],
    ["a proof without ath is refused", async () => ({ scheme: "DPoP", proof: await key.proof({ method: "POST", url: API_URL }) }), "ProofInvalid"],
    ["a proof for another token is refused", async () => ({ scheme: "DPoP", proof: await key.proof({ method: "POST", url: API_URL, token: "another.token.value" }) }), "ProofInvalid"],
    ["a proof older than the window is refused", async () => ({ scheme: "DPoP", proof: await key.proof({ method: "POST", url: API_URL, token: bound, iat: nowSeconds - 120 }) }), "ProofStale"],
    ["a proof from the future is refused", async () => ({ scheme: "DPoP", proof: await key.proof({ method: "POST", url: API_URL, token: bound, iat: nowSeconds + 120 }) }), "ProofStale"],
    ["a proof with typ JWT is refused", async () => ({ scheme: "DPoP", proof: await key.proof({ method: "POST", url: API_URL, token: bound, header: { typ: "JWT" } }) }), "ProofInvalid"],
    ["a proof whose jwk holds the private key is refused", async () => ({ scheme: "DPoP", proof: await key.proof({ method: "POST", url: API_URL, token: bound, header: { jwk: { ...key.publicJwk, d: "AAAA" } } }) }), "ProofInvalid"],
    ["two DPoP headers are refused", async () => ({ scheme: "DPoP", proof: [await key.proof({ method: "POST", url: API_URL, token: bound }), await key.proof({ method: "POST", url: API_URL, token: bound })] }), "RequestMalformed"],
    ["a proof that is not a JWS is refused", () => Promise.resolve({ scheme: "DPoP", proof: "garbage" }), "ProofInvalid"],
  ];
  it.each(cases)("%s", async (_name, request, expected) => {
    const verifier = verifierFor(issuer, now);
    const { scheme, proof } = await request();
    expect(await codeOf(verifier.verifyRequest({ authorization: `${scheme} ${bound}`, dpop: proof, method: "POST", url: API_URL }))).toBe(expected);
  });

  it("refuses a proof used a second time", async () => {
    const verifier = verifierFor(issuer, now);
    const proof = await key.proof({ method: "POST", url: API_URL, token: bound });
    const request = { authorization: `DPoP ${bound}`, dpop: proof, method: "POST", url: API_URL };
    expect(await codeOf(verifier.verifyRequest(request))).toBe("passed");
    expect(await codeOf(verifier.verifyRequest(request))).toBe("ProofReplayed");
  });

  it("refuses an unbound token sent with the DPoP scheme", async () => {
    const verifier = verifierFor(issuer, now);
    const unbound = await issuer.mint();
    const proof = await key.proof({ method: "POST", url: API_URL, token: unbound });
    expect(await codeOf(verifier.verifyRequest({ authorization: `DPoP ${unbound}`, dpop: proof, method: "POST", url: API_URL }))).toBe("TokenBindingMismatch");
  });

  it("asks for a server nonce when nonces are required, and accepts the proof that carries it", async () => {
    const verifier = verifierFor(issuer, now, { dpop: { requireNonce: true } });
    const first = await key.proof({ method: "POST", url: API_URL, token: bound });
    expect(await codeOf(verifier.verifyRequest({ authorization: `DPoP ${bound}`, dpop: first, method: "POST", url: API_URL }))).toBe("ProofNonceRequired");
    const nonce = verifier.currentNonce();
    expect(nonce).toBeDefined();
    const second = await key.proof({ method: "POST", url: API_URL, token: bound, nonce: nonce ?? "" });
    expect(await codeOf(verifier.verifyRequest({ authorization: `DPoP ${bound}`, dpop: second, method: "POST", url: API_URL }))).toBe("passed");
  });
});
