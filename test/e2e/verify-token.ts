// kind.sh's last step: verifies a Tessera access token offline against the issuer's JWKS, as a downstream service
// would (the same checks the node tier's end-to-end tests make: token-checks.ts).
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { fetchIssuerJwks, verifyAccessToken } from "./token-checks.ts";

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

const ca = await readFile(need("ca"), "utf8");
const jwksUrl = need("jwks-url");
const jwks = await fetchIssuerJwks(jwksUrl.replace(/\/\.well-known\/jwks\.json$/, ""), ca, need("servername"));
const { access_token: token } = JSON.parse(await readFile(need("token-file"), "utf8")) as { access_token: string };
const { payload, kid } = await verifyAccessToken(token, jwks, { issuer: need("issuer"), audience: need("audience") });
// The claims, never the token itself.
process.stdout.write(`verified at+jwt token (kid ${kid ?? ""}): ${JSON.stringify(payload, null, 2)}\n`);
