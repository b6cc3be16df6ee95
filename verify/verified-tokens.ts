// Tokens whose signature and claims already verified, remembered until they expire: an API sees the same token on
// every request a workload makes during the token's life, and one ES256 check per token is enough.
import { createHash } from "node:crypto";
import type { TesseraClaims } from "./claims.ts";

export interface VerifiedTokensOptions {
  /** Most tokens remembered (default 10 000); the least recently used is forgotten first. */
  readonly capacity: number;
}

/**
 * Keyed by the token's SHA-256, so the memory never holds tokens themselves. Only tokens that passed every offline
 * check get in, so a caller without valid tokens cannot fill it; an entry is used only while the token is unexpired.
 * Per verifier: its issuer, audience and algorithms are fixed, so a remembered answer is this verifier's answer.
 */
export class VerifiedTokens {
  readonly #capacity: number;
  readonly #entries = new Map<string, TesseraClaims>();

  constructor(options: VerifiedTokensOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity < 0) throw new TypeError("capacity must be a whole number");
    this.#capacity = options.capacity;
  }

  static keyOf(token: string): string {
    return createHash("sha256").update(token).digest("base64url");
  }

  /** The claims of a token verified before and not expired at `nowSeconds`; moves it to the back (recently used). */
  get(key: string, nowSeconds: number): TesseraClaims | undefined {
    const claims = this.#entries.get(key);
    if (claims === undefined) return undefined;
    this.#entries.delete(key);
    // Expired: forgotten, and the full verification refuses it with the right code.
    if (claims.exp <= nowSeconds) return undefined;
    this.#entries.set(key, claims);
    return claims;
  }

  set(key: string, claims: TesseraClaims): void {
    if (this.#capacity === 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, claims);
    while (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}
