// Parses an RFC 8693 token-exchange form body into a checked request, with size limits and actionable errors.
import {
  GRANT_TYPE_TOKEN_EXCHANGE,
  K8S_SERVICE_ACCOUNT_SUBJECT_PREFIX,
  PARAM_MAY_ACT,
  TOKEN_TYPE_ACCESS_TOKEN,
  TOKEN_TYPE_JWT,
} from "../../../../api/constants.ts";
import { IssuerError } from "../errors.ts";

/** Limits on the request; every field is bounded so a hostile body costs little. */
export const REQUEST_LIMITS = {
  /** Whole form body in bytes. */
  bodyBytes: 64 * 1024,
  /** One JWT (subject or actor). Kubernetes tokens are ~1 KiB; Tessera tokens with policy claims a few KiB. */
  tokenChars: 16 * 1024,
  /** One audience or resource value. */
  audienceChars: 512,
  /** Audience and resource values together. */
  audiences: 16,
  /** The whole scope parameter. */
  scopeChars: 2048,
  /** One scope token. */
  scopeTokenChars: 256,
  /** Scope tokens. */
  scopes: 64,
  /** grant_type, *_token_type and other short parameters. */
  shortChars: 256,
} as const;

/** A token-exchange request that passed every syntactic check. */
export interface ExchangeRequest {
  readonly subjectToken: string;
  readonly actorToken?: string;
  /** audience and resource values in request order, duplicates removed; at least one. */
  readonly audiences: readonly string[];
  /** Scope tokens in request order, duplicates removed; empty when the request named none. */
  readonly scopes: readonly string[];
  /** Set when a delegation grant is asked for: the one actor allowed to use it. */
  readonly mayAct?: MayAct;
  /** The token type asked for; TOKEN_TYPE_ACCESS_TOKEN when absent. */
  readonly requestedTokenType: typeof TOKEN_TYPE_ACCESS_TOKEN | typeof TOKEN_TYPE_JWT;
}

/** The actor a delegation grant names: a service account, by its subject. */
export interface MayAct {
  readonly sub: string;
  readonly serviceAccount: { readonly namespace: string; readonly name: string };
}

const SINGLE_VALUED = [
  PARAM_MAY_ACT,
  "grant_type",
  "subject_token",
  "subject_token_type",
  "actor_token",
  "actor_token_type",
  "scope",
  "requested_token_type",
] as const;
type SingleValued = (typeof SINGLE_VALUED)[number];

// RFC 6749 appendix A.4: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
// Audiences are opaque strings, but whitespace and control characters in one are always a client mistake.
const AUDIENCE = /^[\x21-\x7e\u00a0-\uffff]+$/;
// Compact JWS: three base64url segments.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

function invalid(message: string): IssuerError {
  return new IssuerError("MalformedRequest", message);
}

function checkLength(name: string, value: string, max: number): void {
  if (value.length > max) {
    throw invalid(`${name} is ${value.length} characters long; the limit is ${max}`);
  }
}

/** Parses a form body. `body` must already be bounded by REQUEST_LIMITS.bodyBytes at the transport. */
export function parseExchangeRequest(body: string): ExchangeRequest {
  if (Buffer.byteLength(body, "utf8") > REQUEST_LIMITS.bodyBytes) {
    throw invalid(`the request body exceeds ${REQUEST_LIMITS.bodyBytes} bytes`);
  }
  const single = new Map<SingleValued, string>();
  const audiences: string[] = [];
  const resources: string[] = [];
  for (const [name, value] of new URLSearchParams(body)) {
    // RFC 6749 section 3.1: a parameter sent without a value is treated as omitted.
    if (value === "") continue;
    if (name === "audience") {
      audiences.push(value);
    } else if (name === "resource") {
      resources.push(value);
    } else if ((SINGLE_VALUED as readonly string[]).includes(name)) {
      const key = name as SingleValued;
      if (single.has(key)) throw invalid(`${name} appears more than once; send it exactly once`);
      single.set(key, value);
    }
    // Unknown parameters are ignored (RFC 6749 section 3.2).
  }

  const grantType = single.get("grant_type");
  if (grantType === undefined) throw invalid(`grant_type is required; use ${GRANT_TYPE_TOKEN_EXCHANGE}`);
  checkLength("grant_type", grantType, REQUEST_LIMITS.shortChars);
  if (grantType !== GRANT_TYPE_TOKEN_EXCHANGE) {
    throw new IssuerError(
      "UnsupportedGrantType",
      `grant_type ${JSON.stringify(grantType)} is not supported; use ${GRANT_TYPE_TOKEN_EXCHANGE}`,
    );
  }

  const subjectToken = requiredToken(single, "subject_token", "the pod's projected service-account token");
  const actorToken = optionalActorToken(single);
  const audienceList = checkAudiences(audiences, resources);
  const scopes = parseScope(single.get("scope"));
  const requestedTokenType = parseRequestedTokenType(single.get("requested_token_type"));
  const mayActValue = single.get(PARAM_MAY_ACT);
  const mayAct = mayActValue === undefined ? undefined : parseMayAct(mayActValue);

  return {
    subjectToken,
    ...(actorToken === undefined ? {} : { actorToken }),
    audiences: audienceList,
    scopes,
    ...(mayAct === undefined ? {} : { mayAct }),
    requestedTokenType,
  };
}

// A namespace is a DNS label; a service account name a DNS subdomain.
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SERVICE_ACCOUNT = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** The actor a grant is for: only a service account's subject, so the actor can prove it with its own projected token. */
export function parseMayAct(value: string): MayAct {
  checkLength(PARAM_MAY_ACT, value, REQUEST_LIMITS.shortChars * 2);
  const rest = value.startsWith(K8S_SERVICE_ACCOUNT_SUBJECT_PREFIX) ? value.slice(K8S_SERVICE_ACCOUNT_SUBJECT_PREFIX.length) : undefined;
  const [namespace, name, extra] = rest?.split(":") ?? [];
  if (namespace === undefined || name === undefined || extra !== undefined || !NAMESPACE.test(namespace) || !SERVICE_ACCOUNT.test(name)) {
    throw invalid(`${PARAM_MAY_ACT} must name a service account as ${K8S_SERVICE_ACCOUNT_SUBJECT_PREFIX}NAMESPACE:NAME`);
  }
  return { sub: value, serviceAccount: { namespace, name } };
}

function requiredToken(single: Map<SingleValued, string>, name: "subject_token" | "actor_token", what: string): string {
  const token = single.get(name);
  const typeName = name === "subject_token" ? "subject_token_type" : "actor_token_type";
  if (token === undefined) throw invalid(`${name} is required: send ${what}`);
  checkLength(name, token, REQUEST_LIMITS.tokenChars);
  const type = single.get(typeName);
  if (type === undefined) throw invalid(`${typeName} is required; use ${TOKEN_TYPE_JWT}`);
  checkLength(typeName, type, REQUEST_LIMITS.shortChars);
  if (type !== TOKEN_TYPE_JWT) {
    throw new IssuerError(
      "UnsupportedTokenType",
      `${typeName} ${JSON.stringify(type)} is not supported; use ${TOKEN_TYPE_JWT}`,
    );
  }
  if (!COMPACT_JWS.test(token)) throw invalid(`${name} is not a compact JWT (three base64url parts)`);
  return token;
}

function optionalActorToken(single: Map<SingleValued, string>): string | undefined {
  const hasToken = single.has("actor_token");
  const hasType = single.has("actor_token_type");
  if (!hasToken && !hasType) return undefined;
  // RFC 8693 section 2.1: actor_token_type is REQUIRED when actor_token is present and MUST NOT be sent otherwise.
  if (!hasToken) throw invalid("actor_token_type was sent without actor_token; send both or neither");
  if (!hasType) throw invalid(`actor_token was sent without actor_token_type; add actor_token_type=${TOKEN_TYPE_JWT}`);
  return requiredToken(single, "actor_token", "the actor's token");
}

function checkAudiences(audiences: readonly string[], resources: readonly string[]): string[] {
  const total = audiences.length + resources.length;
  if (total === 0) {
    throw new IssuerError(
      "InvalidTarget",
      "name the service the token is for: send at least one audience or resource parameter",
    );
  }
  if (total > REQUEST_LIMITS.audiences) {
    throw new IssuerError(
      "InvalidTarget",
      `${total} audience and resource values were sent; the limit is ${REQUEST_LIMITS.audiences}`,
    );
  }
  for (const value of audiences) checkAudience("audience", value);
  for (const value of resources) {
    checkAudience("resource", value);
    // RFC 8707 section 2: a resource is an absolute URI without a fragment.
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new IssuerError("InvalidTarget", `resource ${JSON.stringify(value)} is not an absolute URI`);
    }
    if (url.hash !== "" || value.includes("#")) {
      throw new IssuerError("InvalidTarget", `resource ${JSON.stringify(value)} must not contain a fragment`);
    }
  }
  return [...new Set([...audiences, ...resources])];
}

function checkAudience(name: string, value: string): void {
  if (value.length > REQUEST_LIMITS.audienceChars) {
    throw new IssuerError(
      "InvalidTarget",
      `an ${name} value is ${value.length} characters long; the limit is ${REQUEST_LIMITS.audienceChars}`,
    );
  }
  if (!AUDIENCE.test(value)) {
    throw new IssuerError("InvalidTarget", `${name} ${JSON.stringify(value)} contains whitespace or control characters`);
  }
}

function parseScope(scope: string | undefined): string[] {
  if (scope === undefined) return [];
  checkLength("scope", scope, REQUEST_LIMITS.scopeChars);
  const tokens = scope.split(" ").filter((token) => token !== "");
  if (tokens.length > REQUEST_LIMITS.scopes) {
    throw new IssuerError("InvalidScope", `${tokens.length} scopes were requested; the limit is ${REQUEST_LIMITS.scopes}`);
  }
  for (const token of tokens) {
    if (token.length > REQUEST_LIMITS.scopeTokenChars) {
      throw new IssuerError(
        "InvalidScope",
        `a scope is ${token.length} characters long; the limit is ${REQUEST_LIMITS.scopeTokenChars}`,
      );
    }
    if (!SCOPE_TOKEN.test(token)) {
      throw new IssuerError(
        "InvalidScope",
        `scope ${JSON.stringify(token)} has a character RFC 6749 does not allow (quotes, backslashes, controls); separate scopes with single spaces`,
      );
    }
  }
  return [...new Set(tokens)];
}

function parseRequestedTokenType(value: string | undefined): ExchangeRequest["requestedTokenType"] {
  if (value === undefined) return TOKEN_TYPE_ACCESS_TOKEN;
  checkLength("requested_token_type", value, REQUEST_LIMITS.shortChars);
  if (value === TOKEN_TYPE_ACCESS_TOKEN || value === TOKEN_TYPE_JWT) return value;
  throw new IssuerError(
    "UnsupportedTokenType",
    `requested_token_type ${JSON.stringify(value)} is not supported; use ${TOKEN_TYPE_ACCESS_TOKEN} or ${TOKEN_TYPE_JWT}, or leave it out`,
  );
}
