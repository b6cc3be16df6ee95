// An HTTPS server that picks up renewed serving material before each new connection, without a restart.
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { TlsMaterial } from "./material.ts";

const MIN_TLS_VERSION = "TLSv1.2";

export interface ReloadingHttpsServerOptions {
  /** Current serving material; asked on every new connection, so renewed material is served at once. */
  readonly tls: () => TlsMaterial;
  /** Who serves, for the log line when new material is refused (e.g. "webhook", "issuer"). */
  readonly name: string;
  readonly logger: Logger;
}

/**
 * Creates (does not start) the server. New material is installed before the TLS handshake of the connection that
 * follows; material node refuses (a key that does not match, broken PEM) is logged once and not retried on every
 * connection, and the previous material keeps being served.
 */
export function createReloadingHttpsServer(
  options: ReloadingHttpsServerOptions,
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Server {
  let current = options.tls();
  let rejected: TlsMaterial | undefined;
  const server = createServer({ cert: current.cert, key: current.key, minVersion: MIN_TLS_VERSION }, handler);
  // Runs before the TLS layer takes the connection: the handshake that follows uses renewed material.
  server.prependListener("connection", () => {
    const next = options.tls();
    const changed = next.cert !== current.cert || next.key !== current.key;
    if (!changed || (next.cert === rejected?.cert && next.key === rejected.key)) return;
    try {
      server.setSecureContext({ cert: next.cert, key: next.key, minVersion: MIN_TLS_VERSION });
      current = next;
    } catch (error) {
      rejected = next;
      options.logger.error({ err: error }, `${options.name} serving certificate rejected; keeping the previous one`);
    }
  });
  return server;
}
