// The issuer's HTTPS server: token exchange, JWKS, discovery, the re-issuance long-poll, health, and mounted extra routes.
import type { Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import {
  HEADER_DPOP,
  MEDIA_TYPE_FORM,
  PATH_DISCOVERY,
  PATH_HEALTHZ,
  PATH_JWKS,
  PATH_OAUTH_METADATA,
  PATH_READYZ,
  PATH_TOKEN,
  PATH_WATCH,
} from "../../../api/constants.ts";
import { discoveryDocument } from "./keys/discovery.ts";
import type { ExchangeOutcome } from "./exchange/exchange.ts";
import { BodyTooLargeError, readBody, sendJson, sendOAuthError, type Handler } from "./http.ts";
import type { PublicJwk } from "./keys/keys.ts";
import { REQUEST_LIMITS } from "./exchange/request.ts";
import type { TlsMaterial } from "../tls/material.ts";
import { createReloadingHttpsServer } from "../tls/reloading-https-server.ts";

export interface IssuerServerOptions {
  /** Called on every new connection; new content means new material (e.g. the leader renewed the serving certificate). */
  readonly tls: () => TlsMaterial;
  readonly issuer: string;
  /** The exchange; `dpop` is the request's DPoP header (RFC 9449), as Node gives it. */
  readonly exchange: (body: string, dpop?: string | readonly string[]) => Promise<ExchangeOutcome>;
  readonly jwks: () => { readonly keys: readonly PublicJwk[] };
  /** Verifiers cache the JWKS this long; key pre-publication must cover it. */
  readonly jwksMaxAgeSeconds?: number;
  /** The re-issuance long-poll handler (createWatchHandler); absent until the entitlement feed exists. */
  readonly watch?: Handler;
  /** Ready to serve tokens (keys loaded, caches synced). */
  readonly ready: () => boolean;
  /** Handlers mounted by other parts of the issuer (introspection, revocation, explain), keyed by exact path. */
  readonly extraRoutes?: Readonly<Record<string, Handler>>;
  readonly logger: Logger;
}

export interface IssuerServer {
  readonly server: Server;
  listen(port: number, host: string): Promise<AddressInfo>;
  close(): Promise<void>;
}

function methodNotAllowed(res: Parameters<Handler>[1], allow: string): void {
  res.setHeader("allow", allow);
  sendOAuthError(res, "invalid_request", `use ${allow} on this endpoint`, 405);
}

/** Builds the server; call listen() to start it. */
export function createIssuerServer(options: IssuerServerOptions): IssuerServer {
  const jwksCache = `public, max-age=${options.jwksMaxAgeSeconds ?? 300}`;
  const discovery = discoveryDocument(options.issuer);

  const token: Handler = async (req, res) => {
    if (req.method !== "POST") {
      methodNotAllowed(res, "POST");
      return;
    }
    const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== MEDIA_TYPE_FORM) {
      sendOAuthError(res, "invalid_request", `send the request as ${MEDIA_TYPE_FORM} (RFC 8693 section 2.1)`);
      return;
    }
    let body: string;
    try {
      body = await readBody(req, REQUEST_LIMITS.bodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        res.setHeader("connection", "close");
        sendOAuthError(res, "invalid_request", error.message, 413);
        return;
      }
      throw error;
    }
    const outcome = await options.exchange(body, req.headersDistinct[HEADER_DPOP.toLowerCase()]);
    if ("retryAfterSeconds" in outcome) {
      res.setHeader("retry-after", String(outcome.retryAfterSeconds));
    }
    sendJson(res, outcome.status, outcome.body);
  };

  const get =
    (handler: Handler): Handler =>
    (req, res) => {
      if (req.method !== "GET" && req.method !== "HEAD") {
        methodNotAllowed(res, "GET");
        return;
      }
      return handler(req, res);
    };

  const routes = new Map<string, Handler>([
    [PATH_TOKEN, token],
    [PATH_JWKS, get((_req, res) => { sendJson(res, 200, options.jwks(), jwksCache); })],
    [PATH_DISCOVERY, get((_req, res) => { sendJson(res, 200, discovery, jwksCache); })],
    [PATH_OAUTH_METADATA, get((_req, res) => { sendJson(res, 200, discovery, jwksCache); })],
    [PATH_HEALTHZ, get((_req, res) => { sendJson(res, 200, { status: "ok" }); })],
    [
      PATH_READYZ,
      get((_req, res) => {
        const ready = options.ready();
        sendJson(res, ready ? 200 : 503, { status: ready ? "ready" : "not ready" });
      }),
    ],
  ]);
  if (options.watch !== undefined) routes.set(PATH_WATCH, get(options.watch));
  for (const [path, handler] of Object.entries(options.extraRoutes ?? {})) {
    if (routes.has(path)) throw new TypeError(`extra route ${path} collides with a built-in issuer route`);
    routes.set(path, handler);
  }

  const server = createReloadingHttpsServer({ tls: options.tls, name: "issuer", logger: options.logger }, (req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
    const handler = routes.get(path);
    if (handler === undefined) {
      sendOAuthError(res, "invalid_request", `no endpoint at ${path}`, 404);
      return;
    }
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((error: unknown) => {
        options.logger.error({ err: error, path }, "issuer request failed");
        if (!res.headersSent) {
          sendOAuthError(res, "server_error", "the issuer failed to process the request; retry, and report it if it persists");
        } else {
          res.destroy();
        }
      });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;

  return {
    server,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
    },
  };
}
