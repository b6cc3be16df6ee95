// Small HTTP helpers shared by the issuer's handlers: bounded body reads and JSON / OAuth error responses.
import type { IncomingMessage, ServerResponse } from "node:http";
import { MEDIA_TYPE_JSON } from "../../../api/constants.ts";
import type { OAuthErrorCode, OAuthErrorResponse } from "../../../api/exchange.ts";
import { httpStatusOf } from "./errors.ts";

/** A route handler; extra routes (introspection, revocation, explain) use the same shape. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Thrown by readBody when the body exceeds its limit. */
export class BodyTooLargeError extends Error {
  constructor(limit: number) {
    super(`the request body exceeds ${limit} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/** Reads the whole body as UTF-8, refusing (early, by Content-Length when sent) anything over `maxBytes`. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxBytes) {
      reject(new BodyTooLargeError(maxBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        reject(new BodyTooLargeError(maxBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!failed) resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", (error) => {
      if (!failed) reject(error);
    });
  });
}

/** Writes a JSON response. `cache` defaults to no-store: tokens and errors must never be cached (RFC 6749 section 5.1). */
export function sendJson(res: ServerResponse, status: number, body: unknown, cache = "no-store"): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": MEDIA_TYPE_JSON,
    "content-length": Buffer.byteLength(payload),
    "cache-control": cache,
    ...(cache === "no-store" ? { pragma: "no-cache" } : {}),
    "x-content-type-options": "nosniff",
  });
  res.end(payload);
}

/** Writes an OAuth error body (RFC 6749 section 5.2) with the status that goes with its code, or `status`. */
export function sendOAuthError(
  res: ServerResponse,
  code: OAuthErrorCode,
  description: string,
  status: number = httpStatusOf(code),
  extra: Partial<OAuthErrorResponse> = {},
): void {
  const body: OAuthErrorResponse = { ...extra, error: code, error_description: description };
  sendJson(res, status, body);
}
