// The one HTTP(S) client of the sidecar: node:https trusting only the issuer's CA, with a deadline and a body cap.
import http from "node:http";
import https from "node:https";
import tls from "node:tls";

export interface HttpRequest {
  readonly method: "GET" | "POST";
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Whole-exchange deadline: connect, send, and read the full response. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface HttpResponse {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: string;
}

/** Why no response came back; the issuer client maps these to SidecarError codes. */
export type TransportFailure = "timeout" | "network" | "aborted" | "too_large";

export class TransportError extends Error {
  readonly failure: TransportFailure;

  constructor(failure: TransportFailure, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TransportError";
    this.failure = failure;
  }
}

/** Injected into the issuer client so unit tests need no network. */
export type HttpTransport = (request: HttpRequest) => Promise<HttpResponse>;

export interface NodeTransportOptions {
  /** PEM CA bundle; when set, it is the only trust anchor for https URLs. */
  readonly ca?: string;
  /** Cap on a response body; the issuer's replies are a few kilobytes. */
  readonly maxBodyBytes?: number;
}

/** A transport over node:https (node:http for http URLs, used only by tests; config refuses them). */
export function nodeTransport(options: NodeTransportOptions = {}): HttpTransport & { close(): void } {
  const maxBody = options.maxBodyBytes ?? 256 * 1024;
  // One TLS context for the process: without it every connection would parse the CA bundle again.
  const secureContext = options.ca === undefined ? undefined : tls.createSecureContext({ ca: options.ca });
  // Keep-alive: a pod holds a connection to the issuer for its refreshes and its long-poll.
  const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 8, ...(secureContext === undefined ? {} : { secureContext }) });
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });

  const send: HttpTransport = (request) =>
    new Promise<HttpResponse>((resolve, reject) => {
      const isHttps = request.url.protocol === "https:";
      let settled = false;
      const finish = (err: TransportError | undefined, res?: HttpResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.signal?.removeEventListener("abort", onAbort);
        if (err !== undefined) {
          req.destroy();
          reject(err);
        } else if (res !== undefined) {
          resolve(res);
        }
      };
      const onAbort = (): void => {
        finish(new TransportError("aborted", "request aborted"));
      };
      const headers: Record<string, string | number> = { ...request.headers };
      if (request.body !== undefined) headers["content-length"] = Buffer.byteLength(request.body);
      const req = (isHttps ? https : http).request(request.url, {
        method: request.method,
        headers,
        agent: isHttps ? httpsAgent : httpAgent,
      });
      const timer = setTimeout(() => {
        finish(new TransportError("timeout", `no complete response within ${request.timeoutMs} ms`));
      }, request.timeoutMs);
      if (request.signal?.aborted === true) {
        onAbort();
        return;
      }
      request.signal?.addEventListener("abort", onAbort, { once: true });
      req.on("error", (cause) => {
        finish(new TransportError("network", `request failed: ${cause.message}`, { cause }));
      });
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBody) {
            finish(new TransportError("too_large", `response body exceeds ${maxBody} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on("error", (cause) => {
          finish(new TransportError("network", `response failed: ${cause.message}`, { cause }));
        });
        res.on("end", () => {
          finish(undefined, {
            status: res.statusCode ?? 0,
            contentType: res.headers["content-type"],
            body: Buffer.concat(chunks).toString("utf8"),
          });
        });
      });
      req.end(request.body);
    });

  return Object.assign(send, {
    close(): void {
      httpsAgent.destroy();
      httpAgent.destroy();
    },
  });
}
