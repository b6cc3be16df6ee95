// A fetch for a private CA: Tessera's issuer serves with its own CA, which Node's global fetch cannot be told to trust.
import { request } from "node:https";

export interface HttpsFetchOptions {
  /** PEM bundle the server's certificate must chain to (and nothing else). */
  readonly ca: string;
  /** Largest response body read; discovery documents and key sets are a few KiB. */
  readonly maxBodyBytes?: number;
  readonly timeoutMs?: number;
}

/** A `fetch` that trusts only `ca`, bounds the body and the time, and never follows redirects. */
export function httpsFetch(options: HttpsFetchOptions): typeof fetch {
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const timeoutMs = options.timeoutMs ?? 5_000;
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : input.toString());
      if (url.protocol !== "https:") {
        reject(new TypeError(`${url.origin} is not https`));
        return;
      }
      const headers = new Headers(init?.headers);
      const body = typeof init?.body === "string" ? init.body : init?.body instanceof URLSearchParams ? init.body.toString() : undefined;
      const req = request(url, {
        method: init?.method ?? "GET",
        headers: Object.fromEntries(headers.entries()),
        ca: options.ca,
        timeout: timeoutMs,
      });
      req.on("timeout", () => req.destroy(new Error(`${url.origin} did not answer within ${timeoutMs} ms`)));
      req.on("error", reject);
      init?.signal?.addEventListener("abort", () => req.destroy(new Error("aborted")), { once: true });
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBodyBytes) {
            res.destroy(new Error(`${url.origin} answered more than ${maxBodyBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on("error", reject);
        res.on("end", () => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (typeof value === "string") responseHeaders.set(name, value);
          }
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, headers: responseHeaders }));
        });
      });
      req.end(body);
    });
}
