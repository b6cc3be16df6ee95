// A token as the demo shows it: never whole, with its decoded header and claims (decoding only; the issuer verified it).
import { decodeJwt, decodeProtectedHeader } from "jose";

export interface TokenView {
  /** The first characters and the length: enough to recognise it, useless to replay. */
  readonly preview: string;
  readonly header: Readonly<Record<string, unknown>>;
  readonly claims: Readonly<Record<string, unknown>>;
}

const PREVIEW_CHARS = 20;
const TIME_CLAIMS = new Set(["iat", "nbf", "exp"]);

export function previewToken(token: string): string {
  return `${token.slice(0, PREVIEW_CHARS)}… (${String(token.length)} characters)`;
}

export function viewToken(token: string): TokenView {
  return {
    preview: previewToken(token),
    header: { ...decodeProtectedHeader(token) },
    claims: { ...decodeJwt(token) },
  };
}

/** One value on one line: strings as they are, times with their offset from `nowSeconds`, the rest as JSON. */
export function claimValue(name: string, value: unknown, nowSeconds: number): string {
  if (TIME_CLAIMS.has(name) && typeof value === "number") {
    const offset = value - nowSeconds;
    const relative = offset === 0 ? "now" : offset > 0 ? `in ${String(offset)} s` : `${String(-offset)} s ago`;
    return `${new Date(value * 1000).toISOString()} (${relative})`;
  }
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** `name  value` lines for a set of claims or header fields, names aligned. */
export function fieldLines(fields: Readonly<Record<string, unknown>>, nowSeconds: number): string {
  const names = Object.keys(fields);
  const width = Math.max(0, ...names.map((n) => n.length));
  return names.map((n) => `${n.padEnd(width)}  ${claimValue(n, fields[n], nowSeconds)}`).join("\n");
}
