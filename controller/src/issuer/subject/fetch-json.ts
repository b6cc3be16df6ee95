// Fetches small JSON documents (OIDC discovery, JWKS) over HTTPS with a pinned CA and an optional bearer token.
import { request } from "node:https";
import { IssuerError } from "../errors.ts";

/** Fetches a JSON document; rejects with UpstreamUnavailable on transport errors, non-200 answers or bad JSON. */
export type FetchJson = (url: string) => Promise<unknown>;

export interface HttpsJsonFetcherOptions {
  /** PEM CA bundle the server's certificate must chain to (the cluster CA in-cluster). */
  readonly ca?: string;
  /** Bearer token for the fetch, read on every call so a rotated projected token is picked up. */
  readonly bearer?: () => string | undefined;
  readonly timeoutMs?: number;
  /** Largest accepted response. */
  readonly maxBytes?: number;
}

/** A FetchJson over node:https. */
export function createHttpsJsonFetcher(options: HttpsJsonFetcherOptions = {}): FetchJson {
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  return (url) =>
    new Promise((resolve, reject) => {
      const target = new URL(url);
      if (target.protocol !== "https:") {
        reject(new IssuerError("UpstreamUnavailable", `refusing to fetch ${url}: only https is allowed`));
        return;
      }
      // The apiserver answers its JWKS only as application/jwk-set+json and refuses (406) a plain JSON-only Accept.
      const headers: Record<string, string> = { accept: "application/json, application/jwk-set+json" };
      const bearer = options.bearer?.();
      if (bearer !== undefined) headers["authorization"] = `Bearer ${bearer}`;
      const req = request(
        target,
        { method: "GET", headers, timeout: timeoutMs, ...(options.ca === undefined ? {} : { ca: options.ca }) },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) {
              req.destroy(new IssuerError("UpstreamUnavailable", `${url} answered more than ${maxBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on("end", () => {
            if (res.statusCode !== 200) {
              reject(new IssuerError("UpstreamUnavailable", `${url} answered HTTP ${res.statusCode ?? 0}`));
              return;
            }
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown);
            } catch {
              reject(new IssuerError("UpstreamUnavailable", `${url} did not answer JSON`));
            }
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new IssuerError("UpstreamUnavailable", `${url} did not answer in ${timeoutMs} ms`)));
      req.on("error", (error) => {
        reject(
          error instanceof IssuerError
            ? error
            : new IssuerError("UpstreamUnavailable", `fetching ${url} failed: ${error.message}`, { cause: error }),
        );
      });
      req.end();
    });
}
