// What both end-to-end paths (kind.sh on a user's machine, the node tier here) check about a token a pod got: it
// verifies offline against the issuer's JWKS with the issuer, audience and type a downstream service expects.
import { request } from "node:https";
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from "jose";
import { ACCESS_TOKEN_TYP, PATH_JWKS } from "../../api/constants.ts";

/** GET over TLS with the issuer's CA; the SNI name is the issuer's Service name, whatever address we reach it on. */
export async function fetchIssuerJwks(baseUrl: string, caPem: string, servername: string): Promise<JSONWebKeySet> {
  const url = `${baseUrl}${PATH_JWKS}`;
  return await new Promise((resolve, reject) => {
    const req = request(url, { ca: caPem, servername, timeout: 10_000 }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString("utf8")));
      res.on("end", () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${url}: HTTP ${String(res.statusCode)}`));
        else resolve(JSON.parse(text) as JSONWebKeySet);
      });
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

export interface VerifiedToken {
  readonly payload: JWTPayload;
  readonly kid: string | undefined;
}

/** Verifies an access token as a downstream service would; throws (jose's error) when it does not verify. */
export async function verifyAccessToken(
  token: string,
  jwks: JSONWebKeySet,
  expected: { readonly issuer: string; readonly audience: string },
): Promise<VerifiedToken> {
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
    issuer: expected.issuer,
    audience: expected.audience,
    typ: ACCESS_TOKEN_TYP,
    algorithms: ["ES256", "EdDSA"],
  });
  return { payload, kid: protectedHeader.kid };
}
