// Who may call the audit endpoints: a service-account bearer token verified by TokenReview, then a per-operation allowlist.

import { createHash } from "node:crypto";
import {
  ENV_EXPLAIN_CALLERS,
  ENV_INTROSPECT_CALLERS,
  ENV_REVOKE_CALLERS,
  K8S_SERVICE_ACCOUNT_SUBJECT_PREFIX,
} from "../../../../api/constants.ts";
import { IssuerError, isIssuerError } from "../errors.ts";
import { AuditEndpointError } from "./errors.ts";
import { ExpiringCache } from "../subject/expiring-cache.ts";
import { withDeadline } from "../subject/deadline.ts";
import { TOKEN_REVIEW_DEADLINE_MS, type TokenReviewer } from "../subject/token-review-verifier.ts";

/** The operations behind authentication; each has its own allowlist. */
export type AuditOperation = "introspect" | "revoke" | "explain";

/** Allowed callers per operation: "namespace/name" for one service account, "namespace/*" for every one of a namespace. */
export type CallerAllowlist = Readonly<Record<AuditOperation, readonly string[]>>;

/** An authenticated caller. */
export interface Caller {
  readonly namespace: string;
  readonly name: string;
}

/** Where each operation's allowlist is configured, for the refusal that says it is empty. */
const ALLOWLIST_SETTING: Readonly<Record<AuditOperation, string>> = {
  introspect: ENV_INTROSPECT_CALLERS,
  revoke: ENV_REVOKE_CALLERS,
  explain: ENV_EXPLAIN_CALLERS,
};

/** Longest bearer token accepted; Kubernetes tokens are about 1 KiB. */
const MAX_TOKEN_CHARS = 16 * 1024;
const ALLOWLIST_ENTRY = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/(\*|[a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/;

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 section 2.1), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  const token = match?.[1];
  return token === undefined || token.length > MAX_TOKEN_CHARS ? undefined : token;
}

/** The service account of a username "system:serviceaccount:NS:NAME", or undefined for any other user. */
export function serviceAccountOf(username: string | undefined): Caller | undefined {
  if (username?.startsWith(K8S_SERVICE_ACCOUNT_SUBJECT_PREFIX) !== true) return undefined;
  const parts = username.slice(K8S_SERVICE_ACCOUNT_SUBJECT_PREFIX.length).split(":");
  const [namespace, name] = parts;
  if (parts.length !== 2 || namespace === undefined || name === undefined || namespace === "" || name === "") return undefined;
  return { namespace, name };
}

/** Throws a TypeError naming every malformed entry: the allowlist is configuration, checked once at startup. */
export function checkAllowlist(allowlist: CallerAllowlist): CallerAllowlist {
  const bad = Object.entries(allowlist).flatMap(([operation, entries]) =>
    entries.filter((entry) => !ALLOWLIST_ENTRY.test(entry)).map((entry) => `${operation}: ${JSON.stringify(entry)}`),
  );
  if (bad.length > 0) throw new TypeError(`allowlist entries must be "namespace/name" or "namespace/*": ${bad.join(", ")}`);
  return allowlist;
}

/** True when the allowlist of `operation` names the caller (exactly, or through "namespace/*"). */
export function isAllowed(allowlist: CallerAllowlist, operation: AuditOperation, caller: Caller): boolean {
  return allowlist[operation].some((entry) => entry === `${caller.namespace}/${caller.name}` || entry === `${caller.namespace}/*`);
}

export interface CallerAuthenticatorOptions {
  readonly reviewer: TokenReviewer;
  /** Audience the caller's projected token must carry (Tessera's issuer audience): tokens meant elsewhere are refused. */
  readonly audience: string;
  readonly allowlist: CallerAllowlist;
  readonly now: () => Date;
  /** Seconds a successful TokenReview is reused for the same token; default 10 (as the apiserver's own auth cache). */
  readonly cacheSeconds?: number;
  /** Tokens remembered at most; default 1000. */
  readonly maxCached?: number;
  /**
   * Seconds a token the apiserver refused is refused again without asking; default 10. Bounds what a caller
   * replaying garbage costs the apiserver. An apiserver that did not answer is never remembered.
   */
  readonly refusedCacheSeconds?: number;
  /**
   * Milliseconds to wait for the apiserver's answer before answering 503; default TOKEN_REVIEW_DEADLINE_MS, as for
   * subject tokens. A stopped apiserver accepts connections and never answers: without it the caller would hang.
   */
  readonly deadlineMs?: number;
}

/**
 * Authenticates with TokenReview (the apiserver also checks that a bound pod still exists), then authorises against
 * the allowlist. What can be refused without the apiserver is: no bearer token, an operation nobody may call, a
 * token refused a moment ago. Only a hash of each token is kept in the caches, never the token.
 */
export class CallerAuthenticator {
  readonly #options: CallerAuthenticatorOptions;
  readonly #accepted: ExpiringCache<Caller>;
  readonly #refused: ExpiringCache<true>;

  constructor(options: CallerAuthenticatorOptions) {
    checkAllowlist(options.allowlist);
    this.#options = options;
    this.#accepted = new ExpiringCache(options.maxCached ?? 1000);
    this.#refused = new ExpiringCache(options.maxCached ?? 1000);
  }

  /** The caller of a request, allowed to perform `operation`; throws Unauthenticated, Forbidden or AuthenticationUnavailable. */
  async authenticate(authorization: string | undefined, operation: AuditOperation): Promise<Caller> {
    const token = bearerToken(authorization);
    if (token === undefined) {
      throw new AuditEndpointError("Unauthenticated", "send Authorization: Bearer <a service-account token for Tessera's audience>");
    }
    if (this.#options.allowlist[operation].length === 0) {
      throw new AuditEndpointError("Forbidden", `no service account may ${operation}: ${ALLOWLIST_SETTING[operation]} is empty`);
    }
    const caller = await this.#identify(token);
    if (!isAllowed(this.#options.allowlist, operation, caller)) {
      throw new AuditEndpointError("Forbidden", `service account ${caller.namespace}/${caller.name} may not ${operation}`);
    }
    return caller;
  }

  async #identify(token: string): Promise<Caller> {
    const key = createHash("sha256").update(token).digest("base64url");
    const nowMs = this.#options.now().getTime();
    const cached = this.#accepted.get(key, nowMs);
    if (cached !== undefined) return cached;
    if (this.#refused.get(key, nowMs) === true) throw refusedToken();
    const deadlineMs = this.#options.deadlineMs ?? TOKEN_REVIEW_DEADLINE_MS;
    let result;
    try {
      result = await withDeadline(
        (signal) => this.#options.reviewer.review(token, [this.#options.audience], signal),
        deadlineMs,
        () => new IssuerError("UpstreamUnavailable", `the apiserver did not answer the TokenReview within ${deadlineMs} ms`),
      );
    } catch (error) {
      if (isIssuerError(error, "UpstreamUnavailable")) {
        throw new AuditEndpointError("AuthenticationUnavailable", `${error.message}; retry shortly`, { cause: error });
      }
      throw error;
    }
    const caller = serviceAccountOf(result.username);
    if (!result.authenticated || !result.audiences.includes(this.#options.audience) || caller === undefined) {
      this.#refused.set(key, true, nowMs + (this.#options.refusedCacheSeconds ?? 10) * 1000);
      throw refusedToken();
    }
    this.#accepted.set(key, caller, nowMs + (this.#options.cacheSeconds ?? 10) * 1000);
    return caller;
  }
}

function refusedToken(): AuditEndpointError {
  return new AuditEndpointError("Unauthenticated", "the bearer token is not a valid service-account token for Tessera's audience");
}
