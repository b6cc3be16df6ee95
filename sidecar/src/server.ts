// The workload-facing local endpoint: loopback HTTP (and an optional Unix socket) serving tokens, health and metrics,
// plus the pod-IP listeners for the kubelet's probes and, when configured, Prometheus.
import fs from "node:fs/promises";
import http from "node:http";
import type { Logger } from "pino";
import {
  MEDIA_TYPE_JSON,
  PATH_HEALTHZ,
  PATH_METRICS,
  PATH_READYZ,
  SIDECAR_GUARD_HEADER,
  SIDECAR_PATH_ACT,
  SIDECAR_PATH_DELEGATION,
  SIDECAR_PATH_PROOF,
  SIDECAR_PATH_TOKEN,
} from "../../api/constants.ts";
import type { OAuthErrorResponse } from "../../api/exchange.ts";
import type { ProofRequest } from "./dpop-key.ts";
import type { SidecarErrorCode } from "./errors.ts";
import { MAX_PROOF_BODY_BYTES, parseProofRequest } from "./proof-request.ts";
import type { TokenQuery } from "./request-target.ts";
import { requestTargets } from "./request-target.ts";
import type { TokenKey } from "./token-key.ts";
import { TokenResponses } from "./token-response.ts";
import type { TokenResult } from "./token-service.ts";
import { MAX_ACT_BODY_BYTES, parseActRequest, parseDelegationQuery, type ActRequest, type DelegationRequest } from "./delegation-request.ts";
import type { Denial, IssuedToken } from "./issuer-client.ts";

/** The issuer's answer to an exchange the workload asked for now and that is not cached (a grant, an actor's token). */
export type OnDemandResult =
  | { readonly kind: "issued"; readonly token: IssuedToken }
  | { readonly kind: "denied"; readonly denial: Denial }
  | { readonly kind: "unavailable"; readonly code: SidecarErrorCode; readonly message: string };

/** What the local endpoint needs from the rest of the sidecar. */
export interface LocalApi {
  /** A held token is answered at once; anything else may wait for an exchange. */
  get(key: TokenKey): TokenResult | Promise<TokenResult>;
  keyForName(name: string): TokenKey | undefined;
  readiness(): { readonly ready: boolean; readonly missing: readonly string[]; readonly podGone: boolean };
  metricsText(): string;
  /** A DPoP proof signed with the pod's key (the key never leaves the sidecar). */
  proof(request: ProofRequest): string;
  /** A delegation grant for another workload, minted for this pod. */
  delegate(request: DelegationRequest): Promise<OnDemandResult>;
  /** A token from a grant this pod received, this pod's own identity attached as the actor. */
  act(request: ActRequest): Promise<OnDemandResult>;
}

/** Error body of the local API: the OAuth shape, plus the sidecar's own code when the sidecar (not the issuer) failed. */
export type LocalErrorBody = OAuthErrorResponse & { readonly tessera_sidecar_error?: SidecarErrorCode };

export interface HandlerOptions {
  readonly api: LocalApi;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Host header check (DNS rebinding defence); receives the raw header. */
  readonly hostAllowed: (host: string | undefined) => boolean;
  readonly role: ListenerRole;
}

/**
 * What a listener serves. `local` (loopback and socket, reachable by the pod's own processes only): everything,
 * readiness with its details. `probe` (every interface, for the kubelet): /healthz and /readyz as a status code
 * and a fixed body, since anyone who reaches the pod IP may ask. `metrics` (every interface, opt-in): /metrics only.
 */
export type ListenerRole = "local" | "probe" | "metrics";

const ROUTES: Readonly<Record<ListenerRole, ReadonlySet<string>>> = {
  local: new Set([PATH_HEALTHZ, PATH_READYZ, PATH_METRICS, SIDECAR_PATH_TOKEN, SIDECAR_PATH_PROOF, SIDECAR_PATH_DELEGATION, SIDECAR_PATH_ACT]),
  probe: new Set([PATH_HEALTHZ, PATH_READYZ]),
  metrics: new Set([PATH_METRICS]),
};

const GUARD_HEADER = SIDECAR_GUARD_HEADER.toLowerCase();

export function localHandler(options: HandlerOptions): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const { api, logger, hostAllowed, role } = options;
  const routes = ROUTES[role];
  const targets = requestTargets();
  const responses = new TokenResponses();
  const failed = (res: http.ServerResponse, err: unknown): void => {
    logger.error({ err: err instanceof Error ? err.message : "error" }, "local request failed");
    if (!res.headersSent) sendError(res, 500, { error: "server_error", error_description: "internal error" });
    else res.destroy();
  };
  return (req, res) => {
    // Synchronous unless a token must be fetched first: a held token is answered without a promise.
    let pending: Promise<void> | undefined;
    try {
      pending = handle(req, res);
    } catch (err) {
      failed(res, err);
      return;
    }
    pending?.catch((err: unknown) => {
      failed(res, err);
    });
  };

  function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> | undefined {
    if (!hostAllowed(req.headers.host)) {
      sendError(res, 403, {
        error: "access_denied",
        error_description: "Host header must name this sidecar's loopback address (127.0.0.1:PORT or localhost:PORT)",
      });
      return undefined;
    }
    const target = targets(req.url ?? "/");
    const route = target.route;
    if (!routes.has(route)) {
      sendError(res, 404, { error: "invalid_request", error_description: `no such endpoint ${route.slice(0, 100)}` });
      return undefined;
    }
    if (route === SIDECAR_PATH_PROOF) return serveProof(req, res);
    if (route === SIDECAR_PATH_ACT) return serveAct(req, res);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      sendError(res, 405, { error: "invalid_request", error_description: "only GET is supported" });
      return undefined;
    }
    switch (route) {
      case PATH_HEALTHZ:
        sendText(res, 200, "ok\n");
        return undefined;
      case PATH_READYZ: {
        const r = api.readiness();
        if (r.ready) sendText(res, 200, "ok\n");
        else if (role !== "local") sendText(res, 503, "not ready\n");
        else sendText(res, 503, r.podGone ? "pod is gone\n" : `not ready: no valid token for ${r.missing.join(", ")}\n`);
        return undefined;
      }
      case PATH_METRICS:
        res.statusCode = 200;
        res.setHeader("content-type", "text/plain; version=0.0.4; charset=utf-8");
        res.setHeader("cache-control", "no-store");
        res.end(api.metricsText());
        return undefined;
      case SIDECAR_PATH_DELEGATION:
        return serveDelegation(req, res);
      default:
        return serveToken(req, res, target.query);
    }
  }

  /** GET /v1/delegation: a grant for the named actor; the pod's own token never leaves the sidecar. */
  function serveDelegation(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> | undefined {
    if (refusedAsForeign(req, res)) return undefined;
    const request = parseDelegationQuery(new URL(req.url ?? "/", "http://localhost").searchParams);
    if (typeof request === "string") {
      sendError(res, 400, { error: "invalid_request", error_description: request });
      return undefined;
    }
    return api.delegate(request).then((result) => {
      answerOnDemand(res, result);
    });
  }

  /**
   * The checks every local JSON POST endpoint makes, in one place: the method, the guard against requests relayed
   * from outside the pod, the media type, the body limit and the endpoint's own parser. Answers the refusal itself
   * and calls `handle` only with a parsed request.
   */
  function serveJsonPost<T>(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    maxBytes: number,
    parse: (body: string) => T | string,
    handle: (request: T) => void | Promise<void>,
  ): Promise<void> | undefined {
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      sendError(res, 405, { error: "invalid_request", error_description: "use POST with a JSON body" });
      return undefined;
    }
    if (refusedAsForeign(req, res)) return undefined;
    const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== MEDIA_TYPE_JSON) {
      sendError(res, 415, { error: "invalid_request", error_description: `send the body as ${MEDIA_TYPE_JSON}` });
      return undefined;
    }
    return readLocalBody(req, maxBytes).then(async (body) => {
      if (body === undefined) {
        res.setHeader("connection", "close");
        sendError(res, 413, { error: "invalid_request", error_description: `the body exceeds ${maxBytes} bytes` });
        return;
      }
      const request = parse(body);
      if (typeof request === "string") {
        sendError(res, 400, { error: "invalid_request", error_description: request });
        return;
      }
      await handle(request);
    });
  }

  /** POST /v1/act: a received grant exchanged for a token, with this pod's identity as the actor's proof. */
  function serveAct(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> | undefined {
    return serveJsonPost(req, res, MAX_ACT_BODY_BYTES, parseActRequest, async (request) => {
      answerOnDemand(res, await api.act(request));
    });
  }

  function answerOnDemand(res: http.ServerResponse, result: OnDemandResult): void {
    switch (result.kind) {
      case "issued": {
        const t = result.token;
        sendJson(res, 200, {
          access_token: t.accessToken,
          issued_token_type: t.issuedTokenType,
          token_type: t.tokenType,
          expires_in: t.expiresInSeconds,
          ...(t.scope === undefined ? {} : { scope: t.scope }),
        });
        return;
      }
      case "denied":
        sendError(res, result.denial.status === 400 ? 400 : 403, result.denial.error);
        return;
      case "unavailable":
        res.setHeader("retry-after", "1");
        sendError(res, 503, { error: "temporarily_unavailable", error_description: result.message, tessera_sidecar_error: result.code });
        return;
    }
  }

  /** The checks every request for a credential passes (a token or a proof); true when it was refused. */
  function refusedAsForeign(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    if (req.headers[GUARD_HEADER] !== "true") {
      sendError(res, 400, {
        error: "invalid_request",
        error_description: `missing request header "${SIDECAR_GUARD_HEADER}: true" (required so that browsers and forwarded requests cannot read tokens)`,
      });
      return true;
    }
    // Defence in depth, as cloud metadata endpoints do: a browser always sends Origin on a cross-origin request,
    // and a proxy that forwards to loopback adds X-Forwarded-For. Neither is a workload asking its own sidecar.
    if (req.headers.origin !== undefined || req.headers["x-forwarded-for"] !== undefined) {
      sendError(res, 403, {
        error: "access_denied",
        error_description: "requests carrying Origin or X-Forwarded-For are refused: tokens are for the pod's own processes",
      });
      return true;
    }
    return false;
  }

  /** POST /v1/proof: a DPoP proof for one outgoing request of the workload. */
  function serveProof(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> | undefined {
    return serveJsonPost(req, res, MAX_PROOF_BODY_BYTES, parseProofRequest, (request) => {
      sendJson(res, 200, { proof: api.proof(request) });
    });
  }

  function serveToken(req: http.IncomingMessage, res: http.ServerResponse, query: TokenQuery | undefined): Promise<void> | undefined {
    if (refusedAsForeign(req, res)) return undefined;
    const parsed = resolveQuery(query, api);
    if ("status" in parsed) {
      sendError(res, parsed.status, parsed.body);
      return undefined;
    }
    const { key } = parsed;
    const result = api.get(key);
    if (result instanceof Promise) {
      return result.then((r) => {
        answer(req, res, key, r);
      });
    }
    answer(req, res, key, result);
    return undefined;
  }

  function answer(req: http.IncomingMessage, res: http.ServerResponse, key: TokenKey, result: TokenResult): void {
    switch (result.kind) {
      case "token": {
        const t = result.token;
        const expiresIn = Math.max(0, Math.floor((t.expiresAt.getTime() - options.now().getTime()) / 1000));
        const scope = t.scope ?? (key.scopes.length > 0 ? key.scopes.join(" ") : undefined);
        const body = responses.body(t, scope, expiresIn);
        // HEAD keeps the general path, which sends no Content-Length for a response without a body.
        if (req.method === "GET") sendTokenBody(res, body);
        else sendJsonBytes(res, 200, body);
        return;
      }
      case "denied":
        // The issuer's answer, reason included; a denial is the caller's problem (400/403), never a 500.
        sendError(res, result.denial.status === 400 ? 400 : 403, result.denial.error);
        return;
      case "unavailable":
        res.setHeader("retry-after", "1");
        sendError(res, 503, {
          error: "temporarily_unavailable",
          error_description: result.message,
          tessera_sidecar_error: result.code,
        });
        return;
    }
  }
}

type ResolvedQuery = { readonly key: TokenKey } | { readonly status: number; readonly body: LocalErrorBody };

/** The key a token request stands for; a configured name is looked up now, since the parse is remembered. */
function resolveQuery(query: TokenQuery | undefined, api: LocalApi): ResolvedQuery {
  if (query === undefined) throw new Error("token route without a parsed query");
  switch (query.kind) {
    case "invalid":
      return { status: query.status, body: { error: query.error, error_description: query.description } };
    case "name": {
      const key = api.keyForName(query.name);
      return key === undefined ? { status: 400, body: { error: "invalid_target", error_description: "no configured token has that name" } } : { key };
    }
    case "key":
      return { key: query.key };
  }
}

function noStore(res: http.ServerResponse): void {
  res.setHeader("cache-control", "no-store");
  res.setHeader("pragma", "no-cache");
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  noStore(res);
  res.setHeader("content-type", MEDIA_TYPE_JSON);
  res.end(JSON.stringify(body));
}

/**
 * A token answer to GET: the headers sendJsonBytes sets, in one writeHead with the length given, which costs the
 * HTTP stack less per request than setting them one by one; the bytes on the wire are the same.
 */
function sendTokenBody(res: http.ServerResponse, body: Buffer): void {
  res.writeHead(200, { "cache-control": "no-store", pragma: "no-cache", "content-type": MEDIA_TYPE_JSON, "Content-Length": body.length });
  res.end(body);
}

/** An already serialized JSON body: as sendJson, without stringifying or encoding it again. */
function sendJsonBytes(res: http.ServerResponse, status: number, body: Buffer): void {
  res.statusCode = status;
  noStore(res);
  res.setHeader("content-type", MEDIA_TYPE_JSON);
  res.end(body);
}

/** The body as UTF-8, or undefined once it exceeds `maxBytes` (the rest is not read). */
function readLocalBody(req: http.IncomingMessage, maxBytes: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers["content-length"] ?? "0") > maxBytes) {
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        resolve(undefined);
        req.pause();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", reject);
  });
}

function sendError(res: http.ServerResponse, status: number, body: LocalErrorBody): void {
  sendJson(res, status, body);
}

function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  noStore(res);
  res.setHeader("content-type", "text/plain; charset=utf-8");
  res.end(text);
}

/** Host values the loopback listener accepts. */
export function loopbackHostCheck(port: number): (host: string | undefined) => boolean {
  const allowed = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  return (host) => host !== undefined && allowed.has(host.toLowerCase());
}

/** Over a Unix socket there is no port in play; clients name the sidecar "localhost" (curl does). */
function socketHostCheck(host: string | undefined): boolean {
  if (host === undefined) return true;
  const name = host.toLowerCase().replace(/:\d+$/, "");
  return name === "localhost" || name === "127.0.0.1";
}

export interface LocalServersOptions {
  readonly api: LocalApi;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly port: number;
  readonly socketPath: string | undefined;
  readonly healthPort: number | undefined;
  readonly metricsPort: number | undefined;
}

export interface LocalServers {
  /** Bound loopback port (differs from the configured one when that was 0). */
  readonly port: number;
  readonly healthPort: number | undefined;
  readonly metricsPort: number | undefined;
  close(): Promise<void>;
}

/** Starts the loopback listener, the optional socket and the optional probe listener. */
export async function startLocalServers(options: LocalServersOptions): Promise<LocalServers> {
  const { api, logger, now } = options;
  const servers: http.Server[] = [];
  const make = (hostAllowed: (h: string | undefined) => boolean, role: ListenerRole): http.Server => {
    const server = http.createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, localHandler({ api, logger, now, hostAllowed, role }));
    // Small keep-alive so shutdown does not wait on idle clients.
    server.keepAliveTimeout = 2_000;
    servers.push(server);
    return server;
  };
  // The Host check needs the bound port, known only after listen when the configured port is 0.
  let check = loopbackHostCheck(options.port);
  const tcp = make((h) => check(h), "local");
  const port = await listen(tcp, { host: "127.0.0.1", port: options.port });
  check = loopbackHostCheck(port);

  if (options.socketPath !== undefined) {
    await fs.rm(options.socketPath, { force: true });
    await listen(make(socketHostCheck, "local"), { path: options.socketPath });
    await fs.chmod(options.socketPath, 0o660);
  }
  let healthPort: number | undefined;
  if (options.healthPort !== undefined) {
    // Every interface, because the kubelet probes the pod IP; anyone else who reaches it learns only up or down.
    healthPort = await listen(make(() => true, "probe"), { port: options.healthPort });
  }
  let metricsPort: number | undefined;
  if (options.metricsPort !== undefined) {
    metricsPort = await listen(make(() => true, "metrics"), { port: options.metricsPort });
  }
  return {
    port,
    healthPort,
    metricsPort,
    async close() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => {
                resolve();
              });
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}

function listen(server: http.Server, where: { host?: string; port?: number; path?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(where, () => {
      server.off("error", reject);
      const addr = server.address();
      resolve(typeof addr === "object" && addr !== null ? addr.port : 0);
    });
  });
}
