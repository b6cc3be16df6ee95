// One keep-alive HTTP agent per set of TLS material, in place of the new agent client-node makes for every request.
import { createHash } from "node:crypto";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent, type RequestOptions } from "node:https";

/** Idle keep-alive connections close after this long: shorter than any apiserver or proxy idle timeout we know of. */
const IDLE_SOCKET_MS = 30_000;

/**
 * client-node's applyToHTTPSOptions puts a new Agent on every request, so every request opened its own TLS
 * connection (a full handshake with the client certificate) and left a TLS context in native memory until a full
 * GC: at start-up over 1,000 policies that was most of the controller's peak RSS. One keep-alive agent per set of
 * TLS material replaces it; material that changes (a rotated client certificate) gets a new agent.
 */
export class AgentCache {
  #key: string | undefined;
  #agent: HttpsAgent | HttpAgent | undefined;

  /** The agent handed out last (undefined before the first request): its sockets show the connections in use. */
  get current(): HttpsAgent | HttpAgent | undefined {
    return this.#agent;
  }

  /** The shared agent for what applyToHTTPSOptions chose; proxy agents (another class) are left as they are. */
  reuse(given: RequestOptions["agent"], opts: RequestOptions): RequestOptions["agent"] {
    // Exact classes only: a proxy agent is a subclass and keeps its own connection handling.
    if (!(given instanceof HttpAgent) || (given.constructor !== HttpsAgent && given.constructor !== HttpAgent)) return given;
    const tls = given instanceof HttpsAgent ? given : undefined;
    const key = materialKey(tls !== undefined, opts);
    if (key !== this.#key || this.#agent === undefined) {
      const reuse = { keepAlive: true, timeout: IDLE_SOCKET_MS };
      // The previous agent's idle sockets are unref'd and close on their own idle timeout.
      this.#agent = tls === undefined ? new HttpAgent(reuse) : new HttpsAgent({ ...tls.options, ...reuse });
      this.#key = key;
    }
    return this.#agent;
  }
}


/** A digest of the scheme and TLS material (never kept or logged as such): equal digests may share connections. */
function materialKey(https: boolean, opts: RequestOptions): string {
  const hash = createHash("sha256").update(https ? "https" : "http");
  for (const part of [opts.ca, opts.cert, opts.key, opts.pfx, opts.passphrase, opts.rejectUnauthorized, opts.servername]) {
    const text = part === undefined ? "" : typeof part === "object" && !Buffer.isBuffer(part) ? JSON.stringify(part) : String(part);
    hash.update(`\0${text}`);
  }
  return hash.digest("hex");
}
