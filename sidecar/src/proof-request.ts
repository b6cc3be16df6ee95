// Pure: the body of POST /v1/proof, checked and bounded, or the reason it was refused.
import { normalizeHtu } from "../../api/dpop.ts";
import type { ProofRequest } from "./dpop-key.ts";

/** Largest body read: an access token (at most 16 KiB) plus a URL and a few short fields. */
export const MAX_PROOF_BODY_BYTES = 24 * 1024;

const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z]{1,32}$/;
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const NONCE = /^[\x21-\x7e]{1,512}$/;
const MAX_URL_CHARS = 4096;
const MAX_TOKEN_CHARS = 16 * 1024;

/** Parses `{ "method", "url", "access_token"?, "nonce"? }`; a string result is the problem, for a 400. */
export function parseProofRequest(body: string): ProofRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return "the body must be JSON: {\"method\": \"GET\", \"url\": \"https://api.example/path\", \"access_token\": \"...\"}";
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "the body must be a JSON object";
  const { method, url, access_token: accessToken, nonce } = value as Record<string, unknown>;
  if (typeof method !== "string" || !METHOD.test(method)) return "method must be an HTTP method such as GET or POST";
  if (typeof url !== "string" || url.length > MAX_URL_CHARS || normalizeHtu(url) === undefined) {
    return `url must be the absolute http(s) URL of the request, at most ${MAX_URL_CHARS} characters, without credentials`;
  }
  if (accessToken !== undefined && (typeof accessToken !== "string" || accessToken.length > MAX_TOKEN_CHARS || !B64TOKEN.test(accessToken))) {
    return "access_token must be the token the request will carry";
  }
  if (nonce !== undefined && (typeof nonce !== "string" || !NONCE.test(nonce))) return "nonce must be the server's DPoP-Nonce value";
  return {
    // RFC 9110: methods are case-sensitive; the proof names the method exactly as the request will send it.
    method,
    url,
    ...(accessToken === undefined ? {} : { accessToken }),
    ...(nonce === undefined ? {} : { nonce }),
  };
}
