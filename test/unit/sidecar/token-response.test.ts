// Token response bodies: the same bytes JSON.stringify gives, rebuilt when expires_in or the scope changes.
import { describe, expect, it } from "vitest";
import type { TokenExchangeResponse } from "../../../api/exchange.ts";
import type { HeldToken } from "../../../sidecar/src/token-cache.ts";
import { tokenResponseJson, TokenResponses } from "../../../sidecar/src/token-response.ts";
import { fakeJwt } from "./helpers.ts";

function held(accessToken: string, issuedTokenType = "urn:ietf:params:oauth:token-type:access_token"): HeldToken {
  const at = new Date(Date.UTC(2026, 0, 1));
  return { accessToken, issuedTokenType, tokenType: "Bearer", scope: undefined, requestedAt: at, receivedAt: at, expiresAt: at };
}

/** What the endpoint sent before bodies were kept: one JSON.stringify per request. */
function stringified(token: HeldToken, scope: string | undefined, expiresIn: number): string {
  const body: TokenExchangeResponse = {
    access_token: token.accessToken,
    issued_token_type: token.issuedTokenType,
    token_type: token.tokenType,
    expires_in: expiresIn,
    ...(scope === undefined ? {} : { scope }),
  };
  return JSON.stringify(body);
}

describe("tokenResponseJson", () => {
  it.each([
    ["a JWT without a scope", held(fakeJwt(1_900_000_000, "a")), undefined, 299],
    ["a JWT with a scope", held(fakeJwt(1_900_000_000, "b")), "read write", 600],
    ["a token about to expire", held(fakeJwt(1_900_000_000, "c")), undefined, 0],
    ["an opaque token with characters JSON escapes", held('opaque"\\token\n\u2028é'), 'sc"ope', 42],
    ["another issued token type", held("t", "urn:ietf:params:oauth:token-type:jwt"), undefined, 3599],
  ])("serializes %s exactly as JSON.stringify does", (_case, token, scope, expiresIn) => {
    expect(tokenResponseJson(token, scope, expiresIn)).toBe(stringified(token, scope, expiresIn));
  });
});

describe("TokenResponses", () => {
  it("answers the same second with the same bytes", () => {
    const responses = new TokenResponses();
    const token = held(fakeJwt(1_900_000_000, "same"));
    const first = responses.body(token, undefined, 299);
    expect(first.toString("utf8")).toBe(stringified(token, undefined, 299));
    expect(responses.body(token, undefined, 299)).toBe(first);
  });

  it.each([
    ["a later second", undefined, 298],
    ["another scope", "read", 299],
  ])("rebuilds the body for %s", (_case, scope, expiresIn) => {
    const responses = new TokenResponses();
    const token = held(fakeJwt(1_900_000_000, "changed"));
    responses.body(token, undefined, 299);
    expect(responses.body(token, scope, expiresIn).toString("utf8")).toBe(stringified(token, scope, expiresIn));
    // And back again: nothing of the previous answer sticks.
    expect(responses.body(token, undefined, 299).toString("utf8")).toBe(stringified(token, undefined, 299));
  });

  it("keeps each held token's body apart, so a refreshed token is never answered with the old one", () => {
    const responses = new TokenResponses();
    const before = held(fakeJwt(1_900_000_000, "before"));
    const after = held(fakeJwt(1_900_000_600, "after"));
    responses.body(before, undefined, 10);
    const body = responses.body(after, undefined, 10).toString("utf8");
    expect(body).toBe(stringified(after, undefined, 10));
    expect(body).not.toContain(before.accessToken);
  });
});
