// The local token endpoint's 200 body, serialized once per held token and second: only expires_in changes between requests.
import type { HeldToken } from "./token-cache.ts";

/**
 * The RFC 8693 response as JSON, byte for byte what JSON.stringify gives for a TokenExchangeResponse with its
 * keys in this order (access_token, issued_token_type, token_type, expires_in, then scope when present).
 */
export function tokenResponseJson(token: HeldToken, scope: string | undefined, expiresIn: number): string {
  return `${prefixOf(token)}${JSON.stringify(expiresIn)}${suffixOf(scope)}`;
}

function prefixOf(token: HeldToken): string {
  return `{"access_token":${JSON.stringify(token.accessToken)},"issued_token_type":${JSON.stringify(token.issuedTokenType)},"token_type":${JSON.stringify(token.tokenType)},"expires_in":`;
}

function suffixOf(scope: string | undefined): string {
  return scope === undefined ? "}" : `,"scope":${JSON.stringify(scope)}}`;
}

interface Serialized {
  readonly prefix: string;
  suffix: string;
  scope: string | undefined;
  expiresIn: number;
  bytes: Buffer;
}

/**
 * Response bodies of the tokens being served. A cached token is asked for far more often than once a second, and
 * escaping and encoding a kilobyte-long token for each request was most of what the sidecar did per request beyond
 * the HTTP stack itself. Keyed weakly by the held token, so a refreshed or dropped token takes its body with it.
 */
export class TokenResponses {
  readonly #byToken = new WeakMap<HeldToken, Serialized>();

  /** The body for `token` with `expiresIn` seconds left; the same bytes as tokenResponseJson, UTF-8 encoded. */
  body(token: HeldToken, scope: string | undefined, expiresIn: number): Buffer {
    const held = this.#byToken.get(token);
    if (held === undefined) {
      const prefix = prefixOf(token);
      const suffix = suffixOf(scope);
      const bytes = Buffer.from(`${prefix}${JSON.stringify(expiresIn)}${suffix}`, "utf8");
      this.#byToken.set(token, { prefix, suffix, scope, expiresIn, bytes });
      return bytes;
    }
    if (held.expiresIn === expiresIn && held.scope === scope) return held.bytes;
    if (held.scope !== scope) {
      held.scope = scope;
      held.suffix = suffixOf(scope);
    }
    held.expiresIn = expiresIn;
    held.bytes = Buffer.from(`${held.prefix}${JSON.stringify(expiresIn)}${held.suffix}`, "utf8");
    return held.bytes;
  }
}
