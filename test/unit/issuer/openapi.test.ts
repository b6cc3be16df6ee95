// The published OpenAPI description of the issuer agrees with the routes, error codes and change reasons it uses.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import {
  CHANGE_REASON_UNSPECIFIED,
  GRANT_TYPE_TOKEN_EXCHANGE,
  PATH_DISCOVERY,
  PATH_EXPLAIN,
  PATH_HEALTHZ,
  PATH_INTROSPECT,
  PATH_JWKS,
  PATH_METRICS,
  PATH_OAUTH_METADATA,
  PATH_READYZ,
  PATH_REVOKE,
  PATH_TOKEN,
  PATH_WATCH,
  TOKEN_TYPE_JWT,
} from "../../../api/constants.ts";
import { ENTITLEMENT_CHANGE_REASONS, OAUTH_ERROR_CODES } from "../../../api/exchange.ts";

interface Schema {
  readonly properties: Record<string, { const?: string; enum?: string[] }>;
}
interface Doc {
  readonly openapi: string;
  readonly paths: Record<string, Record<string, unknown>>;
  readonly components: { readonly schemas: Record<string, Schema> };
}

const load = async (): Promise<Doc> => parse(await readFile(join(import.meta.dirname, "../../../docs/issuer-openapi.yaml"), "utf8")) as Doc;

describe("docs/issuer-openapi.yaml", () => {
  it("describes exactly the issuer's routes, and no metrics (those are on the health port)", async () => {
    const doc = await load();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual(
      [PATH_TOKEN, PATH_WATCH, PATH_INTROSPECT, PATH_REVOKE, PATH_EXPLAIN, PATH_JWKS, PATH_DISCOVERY, PATH_OAUTH_METADATA, PATH_HEALTHZ, PATH_READYZ].sort(),
    );
    expect(doc.paths[PATH_METRICS]).toBeUndefined();
  });

  it.each([
    ["the token exchange's grant type", "TokenExchangeRequest", "grant_type", [GRANT_TYPE_TOKEN_EXCHANGE]],
    ["the subject token type", "TokenExchangeRequest", "subject_token_type", [TOKEN_TYPE_JWT]],
    ["the OAuth error codes", "OAuthError", "error", [...OAUTH_ERROR_CODES]],
    ["the change reasons the issuer sends", "EntitlementChange", "reason", ENTITLEMENT_CHANGE_REASONS.filter((r) => r !== CHANGE_REASON_UNSPECIFIED)],
  ])("lists %s as the code does", async (_name, schema, property, values) => {
    const prop = (await load()).components.schemas[schema]?.properties[property];
    expect(prop?.enum ?? (prop?.const === undefined ? undefined : [prop.const])).toEqual(values);
  });
});
