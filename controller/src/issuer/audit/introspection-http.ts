// HTTP shells of the audit endpoints' POST side: introspection (RFC 7662) and revocation (RFC 7009 style).

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { MEDIA_TYPE_FORM } from "../../../../api/constants.ts";
import type { OAuthErrorCode } from "../../../../api/exchange.ts";
import type { TesseraKeyLookup } from "../keys/access-token.ts";
import type { AuditOperation, CallerAuthenticator } from "./caller-auth.ts";
import { isIssuerError } from "../errors.ts";
import { BodyTooLargeError, readBody, sendJson, sendOAuthError, type Handler } from "../http.ts";
import { verifyForIntrospection, type Introspector } from "./introspection.ts";
import { AuditEndpointError, isAuditEndpointError, type AuditEndpointErrorCode } from "./errors.ts";
import { SIGNING_ALGORITHMS } from "../keys/keys.ts";
import type { IssuerMetrics } from "../metrics.ts";
import type { RevocationStore } from "./revocation.ts";

/** Form bodies of these endpoints carry one token and a hint: a few KiB at most. */
const MAX_BODY_BYTES = 32 * 1024;

const ERROR_OF: Readonly<Record<AuditEndpointErrorCode, { code: OAuthErrorCode; status: number }>> = {
  Unauthenticated: { code: "invalid_client", status: 401 },
  Forbidden: { code: "access_denied", status: 403 },
  AuthenticationUnavailable: { code: "temporarily_unavailable", status: 503 },
  InvalidRequest: { code: "invalid_request", status: 400 },
  PodNotFound: { code: "invalid_request", status: 404 },
  RevocationListFull: { code: "temporarily_unavailable", status: 503 },
  // Over its share: the same request succeeds once the caller's earliest revoked token expires (Retry-After).
  RevocationQuotaExceeded: { code: "temporarily_unavailable", status: 429 },
  RevocationStoreUnavailable: { code: "temporarily_unavailable", status: 503 },
};

/** Writes any failure of an audit endpoint as an OAuth error; unknown failures are logged and answered 500. */
export function sendAuditError(res: ServerResponse, error: unknown, logger: Logger): void {
  if (error instanceof BodyTooLargeError) {
    sendOAuthError(res, "invalid_request", error.message, 413);
    return;
  }
  if (isAuditEndpointError(error)) {
    const mapped = ERROR_OF[error.code];
    // RFC 6750 section 3: a 401 tells the caller which scheme to use.
    if (mapped.status === 401) res.setHeader("www-authenticate", 'Bearer realm="tessera"');
    if (error.retryAfterSeconds !== undefined) res.setHeader("retry-after", String(error.retryAfterSeconds));
    sendOAuthError(res, mapped.code, error.message, mapped.status);
    return;
  }
  // A dependency of the exchange path failed (pod lookup, apiserver): its own mapping, e.g. 503 temporarily_unavailable.
  if (isIssuerError(error)) {
    logger.warn({ code: error.code, err: error.message }, "audit endpoint dependency failed");
    sendOAuthError(res, error.oauthError, error.message);
    return;
  }
  logger.error({ err: error instanceof Error ? error.message : String(error) }, "audit endpoint failed");
  sendOAuthError(res, "server_error", "the issuer failed to answer; see its logs");
}

/** Checks method and media type, authenticates, and parses the form; throws AuditEndpointError. */
async function authenticatedForm(
  req: IncomingMessage,
  auth: CallerAuthenticator,
  operation: AuditOperation,
): Promise<{ form: URLSearchParams; caller: string }> {
  const caller = await auth.authenticate(req.headers.authorization, operation);
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== MEDIA_TYPE_FORM) {
    throw new AuditEndpointError("InvalidRequest", `send the parameters as ${MEDIA_TYPE_FORM}`);
  }
  return { form: new URLSearchParams(await readBody(req, MAX_BODY_BYTES)), caller: `${caller.namespace}/${caller.name}` };
}

function single(form: URLSearchParams, name: string): string | undefined {
  const values = form.getAll(name);
  return values.length === 1 ? values[0] : undefined;
}

function methodNotAllowed(res: ServerResponse): void {
  res.setHeader("allow", "POST");
  sendOAuthError(res, "invalid_request", "use POST", 405);
}

export interface IntrospectionHandlerOptions {
  readonly auth: CallerAuthenticator;
  readonly introspector: Introspector;
  readonly logger: Logger;
}

/** POST token (+ token_type_hint, which is ignored: Tessera has one kind of token) -> RFC 7662 answer. */
export function createIntrospectionHandler(options: IntrospectionHandlerOptions): Handler {
  return async (req, res) => {
    if (req.method !== "POST") {
      methodNotAllowed(res);
      return;
    }
    try {
      const { form } = await authenticatedForm(req, options.auth, "introspect");
      const token = single(form, "token");
      if (token === undefined || token === "") {
        sendOAuthError(res, "invalid_request", "send exactly one token parameter");
        return;
      }
      sendJson(res, 200, await options.introspector.introspect(token));
    } catch (error) {
      sendAuditError(res, error, options.logger);
    }
  };
}

export interface RevocationHandlerOptions {
  readonly auth: CallerAuthenticator;
  readonly store: RevocationStore;
  readonly keys: TesseraKeyLookup;
  readonly issuer: string;
  readonly now: () => Date;
  /** Longest lifetime any Tessera token can have: how long a revocation by bare jti is kept. */
  readonly maxTokenLifetimeSeconds: number;
  readonly logger: Logger;
  readonly metrics?: IssuerMetrics;
}

/**
 * POST token=<Tessera token> (RFC 7009: an invalid or expired token is answered 200, there is nothing to revoke), or
 * POST jti=<id> [exp=<unix seconds>] to revoke by the decision id found in a decision record.
 */
export function createRevocationHandler(options: RevocationHandlerOptions): Handler {
  return async (req, res) => {
    if (req.method !== "POST") {
      methodNotAllowed(res);
      return;
    }
    try {
      const { form, caller } = await authenticatedForm(req, options.auth, "revoke");
      const token = single(form, "token");
      const jtiParam = single(form, "jti");
      if ((token === undefined) === (jtiParam === undefined)) {
        sendOAuthError(res, "invalid_request", "send exactly one of token or jti");
        return;
      }
      const nowSeconds = Math.floor(options.now().getTime() / 1000);
      let target: { jti: string; exp: number } | undefined;
      if (token !== undefined) {
        const verified = verifyForIntrospection(token, options.keys, options.issuer, SIGNING_ALGORITHMS, nowSeconds);
        const { jti, exp } = verified.ok ? verified.claims : {};
        if (typeof jti === "string" && typeof exp === "number") target = { jti, exp };
      } else if (jtiParam !== undefined) {
        const expParam = single(form, "exp");
        const exp = expParam === undefined ? nowSeconds + options.maxTokenLifetimeSeconds : Number(expParam);
        if (!Number.isSafeInteger(exp)) {
          sendOAuthError(res, "invalid_request", "exp must be unix seconds");
          return;
        }
        target = { jti: jtiParam, exp: Math.min(exp, nowSeconds + options.maxTokenLifetimeSeconds) };
      }
      if (target !== undefined) {
        await options.store.revoke(target.jti, target.exp, caller);
        options.metrics?.observeRevocation();
        options.logger.info({ jti: target.jti, exp: target.exp, caller }, "token revoked");
      }
      sendJson(res, 200, {});
    } catch (error) {
      sendAuditError(res, error, options.logger);
    }
  };
}
