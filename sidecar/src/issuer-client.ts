// Talks to the issuer: RFC 8693 exchange and the re-issuance long-poll, every reply parsed into a typed outcome.
import {
  CHANGE_REASON_UNSPECIFIED,
  HEADER_DPOP,
  GRANT_TYPE_TOKEN_EXCHANGE,
  MEDIA_TYPE_FORM,
  MEDIA_TYPE_JSON,
  PATH_TOKEN,
  PATH_WATCH,
  TOKEN_TYPE_ACCESS_TOKEN,
  TOKEN_TYPE_JWT,
  PARAM_MAY_ACT,
} from "../../api/constants.ts";
import type { EntitlementChange, EntitlementChangeReason, OAuthErrorResponse } from "../../api/exchange.ts";
import { ENTITLEMENT_CHANGE_REASONS, OAUTH_ERROR_CODES } from "../../api/exchange.ts";
import type { BackoffPolicy } from "./backoff.ts";
import { backoffDelayMs } from "./backoff.ts";
import type { SidecarErrorCode } from "./errors.ts";
import type { HttpRequest, HttpResponse, HttpTransport } from "./http-transport.ts";
import { TransportError } from "./http-transport.ts";
import type { DpopSigner } from "./dpop-key.ts";
import type { TokenKey } from "./token-key.ts";
import type { ActRequest, DelegationRequest } from "./delegation-request.ts";
import { keyId } from "./token-key.ts";

/** A token the issuer granted. `scope` is the granted scope when the issuer said it. */
export interface IssuedToken {
  readonly accessToken: string;
  readonly issuedTokenType: string;
  /** DPoP when the issuer bound the token to the sidecar's key (RFC 9449 section 5). */
  readonly tokenType: "Bearer" | "DPoP";
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
  /** Asks for a delegation grant naming `request.actor`, with this pod's own projected token as subject. */
  delegate(subjectToken: string, request: DelegationRequest): Promise<ExchangeOutcome>;
  /** Exchanges a received grant, this pod's own projected token attached as the actor's credential. */
  act(ownToken: string, request: ActRequest): Promise<ExchangeOutcome>;
  watch(subjectToken: string, since: string, signal?: AbortSignal): Promise<WatchOutcome>;
}

export interface IssuerClientOptions {
  /** Base URL without a trailing slash. */
  readonly issuerUrl: string;
  readonly transport: HttpTransport;
  readonly exchangeTimeoutMs?: number;
  /** Must exceed the issuer's ~25 s long-poll hold. */
  readonly watchTimeoutMs?: number;
  /** The pod's DPoP key; without it no exchange carries a proof. */
  readonly dpop?: DpopSigner;
  /**
   * "always": every exchange carries a proof, so every token is bound. "when-required" (default): a proof is sent for
   * a token once the issuer refused it without one (the policy requires binding), and from then on.
   */
  readonly dpopMode?: "always" | "when-required";
  /**
   * A token request whose connection was refused or broke before an answer is asked again with these pauses while
   * they fit in `connectionRetryWindowMs` and the exchange's deadline (defaults CONNECTION_RETRY, 5 s).
   */
  readonly connectionRetry?: BackoffPolicy;
  readonly connectionRetryWindowMs?: number;
  /** Monotonic milliseconds, for that deadline (tests inject a fake one). */
  readonly clock?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/**
 * A refused or broken connection is most often an issuer replica that just died (crashed, OOM-killed): the Service
 * keeps sending new connections to it until the kubelet reports it and kube-proxy drops it, a second or two.
 * Asking again soon reaches a live replica; the request got no answer, and an exchange repeated only mints a token
 * nobody saw, so it is safe to repeat. Quick at first (100, 200, 400, 800, 1600 ms); within a 5 s window, so an
 * issuer that is down altogether is still reported within seconds and left to the cache's slower backoff.
 */
export const CONNECTION_RETRY: BackoffPolicy = Object.freeze({ baseMs: 100, capMs: 2_000, jitter: 0.2 });
export const CONNECTION_RETRY_WINDOW_MS = 5_000;

/** Token keys remembered as needing a proof; more than a pod holds (MAX_AUDIENCES_PER_POD plus on-demand keys). */
const MAX_BOUND_KEYS = 256;

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
  const retry = options.connectionRetry ?? CONNECTION_RETRY;
  const retryWindowMs = options.connectionRetryWindowMs ?? CONNECTION_RETRY_WINDOW_MS;
  const clock = options.clock ?? (() => performance.now());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;

  const tokenUrl = new URL(`${issuerUrl}${PATH_TOKEN}`);
  // Keys whose policy requires binding: learnt from the issuer's refusal, so later refreshes send a proof at once.
  const boundKeys = new Set<string>();
  const rememberBound = (id: string): void => {
    if (boundKeys.size >= MAX_BOUND_KEYS) boundKeys.clear();
    boundKeys.add(id);
  };

  async function exchangeOnce(subjectToken: string, key: TokenKey, withProof: boolean, signal: AbortSignal | undefined): Promise<Sent> {
    return post(subjectToken, key, {}, withProof, signal);
  }

  async function post(
    subjectToken: string,
    key: TokenKey,
    extra: Readonly<Record<string, string>>,
    withProof: boolean,
    signal: AbortSignal | undefined,
  ): Promise<Sent> {
    const form = new URLSearchParams({
      grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
      subject_token: subjectToken,
      subject_token_type: TOKEN_TYPE_JWT,
      requested_token_type: TOKEN_TYPE_ACCESS_TOKEN,
      audience: key.audience,
      ...extra,
    });
    if (key.scopes.length > 0) form.set("scope", key.scopes.join(" "));
    const body = form.toString();
    // A fresh proof per attempt: one a dead replica may have seen is never sent again.
    return sendRetryingConnection((timeoutMs) => {
      const proof = withProof && options.dpop !== undefined ? options.dpop.proof({ method: "POST", url: tokenUrl.href }) : undefined;
      return {
        method: "POST",
        url: tokenUrl,
        headers: {
          "content-type": MEDIA_TYPE_FORM,
          accept: MEDIA_TYPE_JSON,
          ...(proof === undefined ? {} : { [HEADER_DPOP.toLowerCase()]: proof }),
        },
        body,
        timeoutMs,
        ...(signal === undefined ? {} : { signal }),
      };
    }, signal);
  }

  /** One token request, asked again while its connection is refused or broken and the exchange's deadline allows. */
  async function sendRetryingConnection(build: (timeoutMs: number) => HttpRequest, signal: AbortSignal | undefined): Promise<Sent> {
    const started = clock();
    const deadline = started + exchangeTimeoutMs;
    const lastRetry = started + Math.min(retryWindowMs, exchangeTimeoutMs);
    for (let attempt = 1; ; attempt += 1) {
      const sent = await send(transport, build(Math.max(1, Math.round(deadline - clock()))));
      if (!("failure" in sent) || !sent.connectionLost || signal?.aborted === true) return sent;
      const delay = backoffDelayMs(retry, attempt, random);
      if (clock() + delay >= lastRetry) return sent;
      await sleep(delay);
    }
  }

  /** One exchange the workload asked for (not cached): a proof when the pod binds always, or once the issuer asks. */
  async function onDemand(subjectToken: string, key: TokenKey, extra: Readonly<Record<string, string>>): Promise<ExchangeOutcome> {
    const proofFirst = options.dpop !== undefined && options.dpopMode === "always";
    let sent = await post(subjectToken, key, extra, proofFirst, undefined);
    if (!proofFirst && options.dpop !== undefined && "response" in sent && sent.response.status === 400 && parseOAuthError(sent.response.body)?.error === "invalid_dpop_proof") {
      sent = await post(subjectToken, key, extra, true, undefined);
    }
    if ("failure" in sent) return { kind: "failed", failure: sent.failure };
    const res = sent.response;
    if (res.status !== 200) return classifyError(res);
    const token = parseTokenResponse(res.body);
    return token === undefined
      ? { kind: "failed", failure: { code: "ISSUER_BAD_RESPONSE", message: "token response is not RFC 8693 JSON" } }
      : { kind: "issued", token };
  }

  return {
    delegate(subjectToken, request) {
      // A grant is never bound: the actor, not this pod, presents it.
      return onDemand(subjectToken, { audience: request.audience, scopes: request.scopes }, { [PARAM_MAY_ACT]: request.actor });
    },
    act(ownToken, request) {
      return onDemand(request.grant, { audience: request.audience, scopes: request.scopes }, { actor_token: ownToken, actor_token_type: TOKEN_TYPE_JWT });
    },
    async exchange(subjectToken, key, signal) {
      const id = keyId(key);
      const proofFirst = options.dpop !== undefined && (options.dpopMode === "always" || boundKeys.has(id));
      let sent = await exchangeOnce(subjectToken, key, proofFirst, signal);
      if (
        !proofFirst &&
        options.dpop !== undefined &&
        "response" in sent &&
        sent.response.status === 400 &&
        parseOAuthError(sent.response.body)?.error === "invalid_dpop_proof"
      ) {
        // The policy requires a bound token: ask again, with a proof, and remember it for this key.
        rememberBound(id);
        sent = await exchangeOnce(subjectToken, key, true, signal);
      }
      if ("failure" in sent) return { kind: "failed", failure: sent.failure };
      const res = sent.response;
      if (res.status === 200) {
        const token = parseTokenResponse(res.body);
        if (token?.tokenType === "DPoP") rememberBound(id);
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

/** `connectionLost`: the connection was refused or broke before an answer (not a timeout, not our own abort). */
type Sent = { readonly response: HttpResponse } | { readonly failure: Failure; readonly connectionLost: boolean };

async function send(transport: HttpTransport, request: HttpRequest): Promise<Sent> {
  try {
    return { response: await transport(request) };
  } catch (err) {
    if (err instanceof TransportError) {
      if (err.failure === "timeout") return { failure: { code: "ISSUER_TIMEOUT", message: err.message }, connectionLost: false };
      if (err.failure === "too_large") return { failure: { code: "ISSUER_BAD_RESPONSE", message: err.message }, connectionLost: false };
      return { failure: { code: "ISSUER_UNREACHABLE", message: err.message }, connectionLost: err.failure === "network" };
    }
    // A transport that throws something else is still a transport failure, never a crash of the sidecar.
    return { failure: { code: "ISSUER_UNREACHABLE", message: err instanceof Error ? err.message : "request failed" }, connectionLost: false };
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
  // RFC 6749 section 7.1: the token type is case-insensitive.
  const tokenType = typeof token_type === "string" ? token_type.toLowerCase() : undefined;
  if (tokenType !== "bearer" && tokenType !== "dpop") return undefined;
  if (typeof expires_in !== "number" || !Number.isFinite(expires_in) || expires_in <= 0) return undefined;
  if (scope !== undefined && typeof scope !== "string") return undefined;
  return {
    accessToken: access_token,
    issuedTokenType: issued_token_type,
    tokenType: tokenType === "dpop" ? "DPoP" : "Bearer",
    expiresInSeconds: expires_in,
    scope,
  };
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
