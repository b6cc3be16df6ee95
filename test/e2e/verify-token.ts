// kind.sh's last step: verifies a Tessera access token offline against the issuer's JWKS, as a downstream service would.
import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { parseArgs } from "node:util";
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from "jose";
import { ACCESS_TOKEN_TYP } from "../../api/constants.ts";

const { values } = parseArgs({
  options: {
    "jwks-url": { type: "string" },
    servername: { type: "string" },
    ca: { type: "string" },
    issuer: { type: "string" },
    audience: { type: "string" },
    "token-file": { type: "string" },
  },
});
const need = (name: keyof typeof values): string => {
  const v = values[name];
  if (v === undefined) throw new TypeError(`--${name} is required`);
  return v;
};

/** GET over TLS with the issuer's CA; the SNI name is the issuer's Service name, whatever address we reach it on. */
async function getJson(url: string, ca: string, servername: string): Promise<unknown> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { ca, servername }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString("utf8")));
      res.on("end", () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${url}: HTTP ${String(res.statusCode)}`));
        else resolve(JSON.parse(text));
      });
    });
    req.on("error", reject);
    req.end();
  });
}

const ca = await readFile(need("ca"), "utf8");
const jwks = (await getJson(need("jwks-url"), ca, need("servername"))) as JSONWebKeySet;
const { access_token: token } = JSON.parse(await readFile(need("token-file"), "utf8")) as { access_token: string };
const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
  issuer: need("issuer"),
  audience: need("audience"),
  typ: ACCESS_TOKEN_TYP,
  algorithms: ["ES256", "EdDSA"],
});
// The claims, never the token itself.
process.stdout.write(`verified ${protectedHeader.typ ?? ""} token (kid ${protectedHeader.kid ?? ""}): ${JSON.stringify(payload, null, 2)}\n`);
