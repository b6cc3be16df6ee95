// Test issuer and DPoP client for the kit's unit tests: real keys and signatures (jose), the key set served by a fetch function.
import { randomUUID } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { accessTokenHash } from "../../../api/dpop.ts";
import { createVerifier, type Verifier, type VerifierOptions } from "../../../verify/index.ts";

export const ISSUER = "https://issuer.tessera.test";
export const AUDIENCE = "payments";
export const API_URL = "https://payments.shop.test/v1/charges";

export interface TestIssuer {
  readonly fetch: typeof fetch;
  readonly fetches: () => number;
  mint(claims?: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
}

export async function testIssuer(now: () => Date): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  let count = 0;
  const fetchImpl = ((input: string | URL | Request) => {
    count += 1;
    const url = new URL(input instanceof Request ? input.url : input.toString());
    if (url.pathname === "/.well-known/oauth-authorization-server") {
      return Promise.resolve(Response.json({ issuer: ISSUER, jwks_uri: `${ISSUER}/.well-known/jwks.json`, introspection_endpoint: `${ISSUER}/v1/introspect` }));
    }
    if (url.pathname === "/.well-known/jwks.json") return Promise.resolve(Response.json({ keys: [jwk] }));
    return Promise.resolve(new Response("not found", { status: 404 }));
  }) as typeof fetch;
  return {
    fetch: fetchImpl,
    fetches: () => count,
    async mint(claims = {}, header = {}) {
      const iat = Math.floor(now().getTime() / 1000);
      const body = {
        iss: ISSUER,
        sub: "system:serviceaccount:shop:checkout",
        aud: AUDIENCE,
        iat,
        nbf: iat,
        exp: iat + 600,
        jti: randomUUID(),
        client_id: "system:serviceaccount:shop:checkout",
        scope: "payments:charge",
        "tessera.dev/namespace": "shop",
        ...claims,
      };
      return new SignJWT(body).setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: "k1", ...header }).sign(privateKey);
    },
  };
}

export interface DpopKey {
  readonly jkt: string;
  readonly publicJwk: JWK;
  proof(input: { method: string; url: string; token?: string; iat?: number; jti?: string; nonce?: string; header?: Record<string, unknown> }): Promise<string>;
}

export async function dpopKey(now: () => Date): Promise<DpopKey> {
  const { privateKey, publicKey }: { privateKey: CryptoKey; publicKey: CryptoKey } = await generateKeyPair("ES256", { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const jkt = await calculateJwkThumbprint(publicJwk, "sha256");
  return {
    jkt,
    publicJwk,
    proof: ({ method, url, token, iat, jti, nonce, header }) =>
      new SignJWT({
        htm: method,
        htu: url,
        iat: iat ?? Math.floor(now().getTime() / 1000),
        jti: jti ?? randomUUID(),
        ...(token === undefined ? {} : { ath: accessTokenHash(token) }),
        ...(nonce === undefined ? {} : { nonce }),
      })
        .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: publicJwk, ...header })
        .sign(privateKey),
  };
}

export function verifierFor(issuer: TestIssuer, now: () => Date, options: Partial<VerifierOptions> = {}): Verifier {
  return createVerifier({ issuer: ISSUER, audience: AUDIENCE, fetch: issuer.fetch, now, ...options });
}
