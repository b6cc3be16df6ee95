// Talks to the issuer: RFC 8693 exchange and the re-issuance long-poll, every reply parsed into a typed outcome.
import {
  CHANGE_REASON_UNSPECIFIED,
  GRANT_TYPE_TOKEN_EXCHANGE,
  MEDIA_TYPE_FORM,
  MEDIA_TYPE_JSON,
  PATH_TOKEN,
  PATH_WATCH,
  TOKEN_TYPE_ACCESS_TOKEN,
  TOKEN_TYPE_JWT,
} from "../../api/constants.ts";
import type { EntitlementChange, EntitlementChangeReason, OAuthErrorResponse } from "../../api/exchange.ts";
import { ENTITLEMENT_CHANGE_REASONS, OAUTH_ERROR_CODES } from "../../api/exchange.ts";
import type { SidecarErrorCode } from "./errors.ts";
import type { HttpResponse, HttpTransport } from "./http-transport.ts";
import { TransportError } from "./http-transport.ts";
import type { TokenKey } from "./token-key.ts";

/** A token the issuer granted. `scope` is the granted scope when the issuer said it. */
export interface IssuedToken {
  readonly accessToken: string;
  readonly issuedTokenType: string;
  readonly expiresInSeconds: number;
  readonly scope: string | undefined;
}

/** The issuer refused (policy denial, unknown audience, bad subject): passed through to the workload. */
export interface Denial {
  readonly status: number;
  readonly error: OAuthErrorResponse;
}

/** No usable answer: retried with backoff, never shown to the workload as a denial. */
export interface Failure {
  readonly code: Extract<
    SidecarErrorCode,
    "ISSUER_UNREACHABLE" | "ISSUER_TIMEOUT" | "ISSUER_UNAVAILABLE" | "ISSUER_BAD_RESPONSE"
  >;
  readonly message: string;
}

export type ExchangeOutcome =
  | { readonly kind: "issued"; readonly token: IssuedToken }
  | { readonly kind: "denied"; readonly denial: Denial }
  | { readonly kind: "failed"; readonly failure: Failure };

export type WatchOutcome =
  | { readonly kind: "changed"; readonly change: EntitlementChange }
  | { readonly kind: "unchanged" }
  | { readonly kind: "gone"; readonly denial: Denial }
  | { readonly kind: "denied"; readonly denial: Denial }
  | { readonly kind: "failed"; readonly failure: Failure };

export interface IssuerClient {
  exchange(subjectToken: string, key: TokenKey, signal?: AbortSignal): Promise<ExchangeOutcome>;
  watch(subjectToken: string, since: string, signal?: AbortSignal): Promise<WatchOutcome>;
}

export interface IssuerClientOptions {
  /** Base URL without a trailing slash. */
  readonly issuerUrl: string;
  readonly transport: HttpTransport;
  readonly exchangeTimeoutMs?: number;
  /** Must exceed the issuer's ~25 s long-poll hold. */
  readonly watchTimeoutMs?: number;
}

/** Longest token the sidecar accepts; a JWT access token is a few kilobytes. */
const MAX_ACCESS_TOKEN_LENGTH = 64 * 1024;
const OAUTH_CODES: ReadonlySet<string> = new Set(OAUTH_ERROR_CODES);
const CHANGE_REASONS: ReadonlySet<string> = new Set(ENTITLEMENT_CHANGE_REASONS);

function isChangeReason(value: unknown): value is EntitlementChangeReason {
  return typeof value === "string" && CHANGE_REASONS.has(value);
}

export function issuerClient(options: IssuerClientOptions): IssuerClient {
  const { issuerUrl, transport } = options;
  const exchangeTimeoutMs = options.exchangeTimeoutMs ?? 10_000;
  const watchTimeoutMs = options.watchTimeoutMs ?? 40_000;

  return {
    async exchange(subjectToken, key, signal) {
      const form = new URLSearchParams({
        grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
        subject_token: subjectToken,
        subject_token_type: TOKEN_TYPE_JWT,
        requested_token_type: TOKEN_TYPE_ACCESS_TOKEN,
        audience: key.audience,
      });
      if (key.scopes.length > 0) form.set("scope", key.scopes.join(" "));
      const sent = await send(transport, {
        method: "POST",
        url: new URL(`${issuerUrl}${PATH_TOKEN}`),
        headers: { "content-type": MEDIA_TYPE_FORM, accept: MEDIA_TYPE_JSON },
        body: form.toString(),
        timeoutMs: exchangeTimeoutMs,
        ...(signal === undefined ? {} : { signal }),
      });
      if ("failure" in sent) return { kind: "failed", failure: sent.failure };
      const res = sent.response;
      if (res.status === 200) {
        const token = parseTokenResponse(res.body);
        return token === undefined
          ? { kind: "failed", failure: { code: "ISSUER_BAD_RESPONSE", message: "token response is not RFC 8693 JSON" } }
          : { kind: "issued", token };
      }
      return classifyError(res);
    },

    async watch(subjectToken, since, signal) {
      const url = new URL(`${issuerUrl}${PATH_WATCH}`);
      url.searchParams.set("since", since);
      const sent = await send(transport, {
        method: "GET",
        url,
        headers: { authorization: `Bearer ${subjectToken}`, accept: MEDIA_TYPE_JSON },
        timeoutMs: watchTimeoutMs,
        ...(signal === undefined ? {} : { signal }),
      });
      if ("failure" in sent) return { kind: "failed", failure: sent.failure };
      const res = sent.response;
      if (res.status === 204) return { kind: "unchanged" };
      if (res.status === 200) {
        const change = parseChange(res.body);
        return change === undefined
          ? { kind: "failed", failure: { code: "ISSUER_BAD_RESPONSE", message: "watch response is not an EntitlementChange" } }
          : { kind: "changed", change };
      }
      if (res.status === 410) {
        return {
          kind: "gone",
          denial: { status: 410, error: parseOAuthError(res.body) ?? { error: "invalid_grant", error_description: "pod is gone" } },
        };
      }
      const outcome = classifyError(res);
      return outcome.kind === "denied" ? outcome : { kind: "failed", failure: outcome.failure };
    },
  };
}

type Sent = { readonly response: HttpResponse } | { readonly failure: Failure };

async function send(transport: HttpTransport, request: Parameters<HttpTransport>[0]): Promise<Sent> {
  try {
    return { response: await transport(request) };
  } catch (err) {
    if (err instanceof TransportError) {
      if (err.failure === "timeout") return { failure: { code: "ISSUER_TIMEOUT", message: err.message } };
      if (err.failure === "too_large") return { failure: { code: "ISSUER_BAD_RESPONSE", message: err.message } };
      return { failure: { code: "ISSUER_UNREACHABLE", message: err.message } };
    }
    // A transport that throws something else is still a transport failure, never a crash of the sidecar.
    return { failure: { code: "ISSUER_UNREACHABLE", message: err instanceof Error ? err.message : "request failed" } };
  }
}

/** 4xx with an OAuth error body is a denial; 429, 5xx and server_error/temporarily_unavailable are retried. */
function classifyError(res: HttpResponse): Exclude<ExchangeOutcome, { kind: "issued" }> {
  const error = parseOAuthError(res.body);
  const transient =
    res.status === 429 ||
    res.status >= 500 ||
    error?.error === "server_error" ||
    error?.error === "temporarily_unavailable";
  if (transient) {
    const detail = error === undefined ? "" : `: ${error.error}`;
    return { kind: "failed", failure: { code: "ISSUER_UNAVAILABLE", message: `issuer answered ${res.status}${detail}` } };
  }
  if (res.status >= 400 && res.status < 500 && error !== undefined) {
    return { kind: "denied", denial: { status: res.status, error } };
  }
  return {
    kind: "failed",
    failure: { code: "ISSUER_BAD_RESPONSE", message: `issuer answered ${res.status} without an OAuth error body` },
  };
}

function parseJsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(body);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function parseTokenResponse(body: string): IssuedToken | undefined {
  const o = parseJsonObject(body);
  if (o === undefined) return undefined;
  const { access_token, issued_token_type, token_type, expires_in, scope } = o;
  if (typeof access_token !== "string" || access_token.length === 0 || access_token.length > MAX_ACCESS_TOKEN_LENGTH) {
    return undefined;
  }
  if (typeof issued_token_type !== "string") return undefined;
  if (typeof token_type !== "string" || token_type.toLowerCase() !== "bearer") return undefined;
  if (typeof expires_in !== "number" || !Number.isFinite(expires_in) || expires_in <= 0) return undefined;
  if (scope !== undefined && typeof scope !== "string") return undefined;
  return { accessToken: access_token, issuedTokenType: issued_token_type, expiresInSeconds: expires_in, scope };
}

function parseOAuthError(body: string): OAuthErrorResponse | undefined {
  const o = parseJsonObject(body);
  if (o === undefined) return undefined;
  const { error, error_description, tessera_reason, tessera_decision_id } = o;
  if (typeof error !== "string" || !OAUTH_CODES.has(error)) return undefined;
  return {
    error: error as OAuthErrorResponse["error"],
    error_description: typeof error_description === "string" ? error_description.slice(0, 1024) : error,
    ...(typeof tessera_reason === "string" ? { tessera_reason: tessera_reason.slice(0, 256) } : {}),
    ...(typeof tessera_decision_id === "string" ? { tessera_decision_id: tessera_decision_id.slice(0, 256) } : {}),
  };
}

function parseChange(body: string): EntitlementChange | undefined {
  const o = parseJsonObject(body);
  if (o === undefined) return undefined;
  const { version, reason } = o;
  // An empty version is legal: the feed lost the pod (e.g. deleted); the next poll learns whether it is gone.
  if (typeof version !== "string" || version.length > 256) return undefined;
  // The reason only feeds logs; one this sidecar does not know (a newer issuer) is recorded as unspecified.
  return { version, reason: isChangeReason(reason) ? reason : CHANGE_REASON_UNSPECIFIED };
}
