// A token as the demo shows it: never whole, with its decoded header and claims (decoding only; the issuer verified it).
import { DemoStepError } from "./runner.ts";

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

function decodePart(part: string | undefined, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8"));
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new DemoStepError(`the token's ${what} is not a base64url JSON object`);
}

/** Decodes a compact JWS (header.payload.signature) without verifying it. */
export function viewToken(token: string): TokenView {
  const parts = token.split(".");
  if (parts.length !== 3) throw new DemoStepError(`the token has ${String(parts.length)} parts, not 3`);
  return { preview: previewToken(token), header: decodePart(parts[0], "header"), claims: decodePart(parts[1], "payload") };
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

/** Claims that differ on every token; left out when comparing what a policy grants. */
const PER_TOKEN = new Set(["jti", "iat", "nbf", "exp"]);

export interface ClaimChange {
  readonly name: string;
  /** undefined when the claim is new. */
  readonly before: unknown;
  /** undefined when the claim is gone. */
  readonly after: unknown;
}

/** The claims that changed between two tokens of the same pod, per-token claims aside. */
export function claimChanges(before: Readonly<Record<string, unknown>>, after: Readonly<Record<string, unknown>>): ClaimChange[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((n) => !PER_TOKEN.has(n));
  return names
    .filter((n) => JSON.stringify(before[n]) !== JSON.stringify(after[n]))
    .map((name) => ({ name, before: before[name], after: after[name] }));
}

/** `name  before -> after` lines, names aligned. */
export function changeLines(changes: readonly ClaimChange[]): string {
  const width = Math.max(0, ...changes.map((c) => c.name.length));
  const show = (value: unknown): string => (value === undefined ? "(absent)" : typeof value === "string" ? value : JSON.stringify(value));
  return changes.map((c) => `${c.name.padEnd(width)}  ${show(c.before)} -> ${show(c.after)}`).join("\n");
}
