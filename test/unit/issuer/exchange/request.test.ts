// Table tests for parsing RFC 8693 token-exchange form bodies.
import { describe, expect, it } from "vitest";
import {
  GRANT_TYPE_TOKEN_EXCHANGE,
  TOKEN_TYPE_ACCESS_TOKEN,
  TOKEN_TYPE_JWT,
} from "../../../../api/constants.ts";
import { isIssuerError, type IssuerErrorCode } from "../../../../controller/src/issuer/errors.ts";
import { parseExchangeRequest, REQUEST_LIMITS } from "../../../../controller/src/issuer/exchange/request.ts";

const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";

function form(params: Record<string, string | string[]>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) search.append(key, v);
  }
  return search.toString();
}

const base = {
  grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
  subject_token: JWT,
  subject_token_type: TOKEN_TYPE_JWT,
  audience: "payments",
};

function codeOf(body: string): IssuerErrorCode | undefined {
  try {
    parseExchangeRequest(body);
    return undefined;
  } catch (error) {
    if (isIssuerError(error)) return error.code;
    throw error;
  }
}

describe("parseExchangeRequest", () => {
  it("accepts a minimal exchange and defaults to an access token with no scopes", () => {
    expect(parseExchangeRequest(form(base))).toEqual({
      subjectToken: JWT,
      audiences: ["payments"],
      scopes: [],
      requestedTokenType: TOKEN_TYPE_ACCESS_TOKEN,
    });
  });

  it("collects repeated audience and resource values in order without duplicates", () => {
    const request = parseExchangeRequest(
      form({ ...base, audience: ["payments", "ledger", "payments"], resource: ["https://api.example.com/v1"] }),
    );
    expect(request.audiences).toEqual(["payments", "ledger", "https://api.example.com/v1"]);
  });

  it("splits scope on spaces and drops repeats", () => {
    expect(parseExchangeRequest(form({ ...base, scope: "read  write read" })).scopes).toEqual(["read", "write"]);
  });

  it("accepts an actor token with its type", () => {
    const request = parseExchangeRequest(form({ ...base, actor_token: JWT, actor_token_type: TOKEN_TYPE_JWT }));
    expect(request.actorToken).toBe(JWT);
  });

  it("accepts requested_token_type jwt", () => {
    expect(parseExchangeRequest(form({ ...base, requested_token_type: TOKEN_TYPE_JWT })).requestedTokenType).toBe(
      TOKEN_TYPE_JWT,
    );
  });

  it("treats a parameter sent without a value as omitted", () => {
    expect(parseExchangeRequest(form({ ...base, scope: "" })).scopes).toEqual([]);
  });

  const { grant_type: _g, ...noGrant } = base;
  const { subject_token: _s, ...noSubject } = base;
  const { subject_token_type: _t, ...noSubjectType } = base;
  const { audience: _a, ...noAudience } = base;

  it.each<[string, string, IssuerErrorCode]>([
    ["a missing grant_type", form(noGrant), "MalformedRequest"],
    ["another grant_type", form({ ...base, grant_type: "client_credentials" }), "UnsupportedGrantType"],
    ["a missing subject_token", form(noSubject), "MalformedRequest"],
    ["a missing subject_token_type", form(noSubjectType), "MalformedRequest"],
    ["an access-token subject_token_type", form({ ...base, subject_token_type: TOKEN_TYPE_ACCESS_TOKEN }), "UnsupportedTokenType"],
    ["a subject_token that is not a compact JWS", form({ ...base, subject_token: "not-a-jwt" }), "MalformedRequest"],
    ["a duplicate subject_token", form({ ...base, subject_token: [JWT, JWT] }), "MalformedRequest"],
    ["a duplicate grant_type", form({ ...base, grant_type: [GRANT_TYPE_TOKEN_EXCHANGE, GRANT_TYPE_TOKEN_EXCHANGE] }), "MalformedRequest"],
    ["a duplicate scope", form({ ...base, scope: ["a", "b"] }), "MalformedRequest"],
    ["an actor_token without its type", form({ ...base, actor_token: JWT }), "MalformedRequest"],
    ["an actor_token_type without a token", form({ ...base, actor_token_type: TOKEN_TYPE_JWT }), "MalformedRequest"],
    ["no audience or resource", form(noAudience), "InvalidTarget"],
    ["a relative resource", form({ ...base, resource: "/api" }), "InvalidTarget"],
    ["a resource with a fragment", form({ ...base, resource: "https://api.example.com/#x" }), "InvalidTarget"],
    ["an audience with a space", form({ ...base, audience: "pay ments" }), "InvalidTarget"],
    ["too many audiences", form({ ...base, audience: Array.from({ length: 17 }, (_, i) => `a${i}`) }), "InvalidTarget"],
    ["an audience over the length limit", form({ ...base, audience: "a".repeat(513) }), "InvalidTarget"],
    ["a scope with a quote", form({ ...base, scope: 'read "write"' }), "InvalidScope"],
    ["too many scopes", form({ ...base, scope: Array.from({ length: 65 }, (_, i) => `s${i}`).join(" ") }), "InvalidScope"],
    ["an unknown requested_token_type", form({ ...base, requested_token_type: "urn:x" }), "UnsupportedTokenType"],
    ["a subject_token over the length limit", form({ ...base, subject_token: `a.${"b".repeat(REQUEST_LIMITS.tokenChars)}.c` }), "MalformedRequest"],
    ["a body over the size limit", `${form(base)}&pad=${"x".repeat(REQUEST_LIMITS.bodyBytes)}`, "MalformedRequest"],
  ])("refuses %s", (_name, body, code) => {
    expect(codeOf(body)).toBe(code);
  });

  it("ignores unknown parameters", () => {
    expect(codeOf(form({ ...base, client_id: "x" }))).toBeUndefined();
  });
});
