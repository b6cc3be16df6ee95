// Where a local request goes and which token it names, parsed from the raw request target once per distinct target.
import { SIDECAR_PATH_TOKEN } from "../../api/constants.ts";
import type { OAuthErrorResponse } from "../../api/exchange.ts";
import type { TokenKey } from "./token-key.ts";
import { audienceProblem, scopesProblem, splitScopes, tokenKey } from "./token-key.ts";

const TOKEN_QUERY_PARAMS = new Set(["audience", "scope", "name"]);

/** What the query of a token request asks for; a configured name is resolved per request, by the caller. */
export type TokenQuery =
  | { readonly kind: "name"; readonly name: string }
  | { readonly kind: "key"; readonly key: TokenKey }
  | { readonly kind: "invalid"; readonly status: 400; readonly error: OAuthErrorResponse["error"]; readonly description: string };

export interface RequestTarget {
  /** The path, as WHATWG URL parsing against http://localhost resolves it. */
  readonly route: string;
  /** Parsed only for the token path. */
  readonly query: TokenQuery | undefined;
}

/** Pure: the route and, for the token path, what the query asks for. Throws what URL parsing throws. */
export function parseRequestTarget(raw: string): RequestTarget {
  const url = new URL(raw, "http://localhost");
  const route = url.pathname;
  return { route, query: route === SIDECAR_PATH_TOKEN ? parseTokenQuery(url.searchParams) : undefined };
}

function parseTokenQuery(params: URLSearchParams): TokenQuery {
  const bad = (error: OAuthErrorResponse["error"], description: string): TokenQuery => ({ kind: "invalid", status: 400, error, description });
  const unknown = [...params.keys()].filter((k) => !TOKEN_QUERY_PARAMS.has(k));
  if (unknown.length > 0) return bad("invalid_request", `unknown query parameter(s): ${unknown.slice(0, 5).join(", ")}`);
  const names = params.getAll("name");
  const audiences = params.getAll("audience");
  const scopes = splitScopes(params.getAll("scope"));
  if (names.length > 0) {
    if (names.length > 1 || audiences.length > 0 || scopes.length > 0) {
      return bad("invalid_request", "name cannot be combined with audience, scope or another name");
    }
    return { kind: "name", name: names[0] ?? "" };
  }
  if (audiences.length !== 1) return bad("invalid_request", "exactly one audience (or a configured name) is required");
  const audience = audiences[0] ?? "";
  const audError = audienceProblem(audience);
  if (audError !== undefined) return bad("invalid_target", audError);
  const scopeError = scopesProblem(scopes);
  if (scopeError !== undefined) return bad("invalid_scope", scopeError);
  return { kind: "key", key: tokenKey(audience, scopes) };
}

/** Most distinct targets remembered; past it the memory starts over (a client cycling targets only costs parsing). */
const MAX_TARGETS = 128;
/** Longer targets are parsed every time rather than held. */
const MAX_TARGET_LENGTH = 2048;

/**
 * A memo over parseRequestTarget. A workload asks for the same few targets again and again, and URL parsing plus
 * query validation was a large share of a cached-token request; the parse is pure, so remembering it changes nothing.
 */
export function requestTargets(): (raw: string) => RequestTarget {
  const known = new Map<string, RequestTarget>();
  return (raw) => {
    const hit = known.get(raw);
    if (hit !== undefined) return hit;
    const parsed = parseRequestTarget(raw);
    if (raw.length <= MAX_TARGET_LENGTH) {
      if (known.size >= MAX_TARGETS) known.clear();
      known.set(raw, parsed);
    }
    return parsed;
  };
}
