// Remembers projected tokens whose signature already verified, and with which key, so a pod presenting the same token again skips the RSA math.
import { createHash, type KeyObject } from "node:crypto";

/**
 * A pod's sidecar presents the same projected token on every refresh until the kubelet rotates it, and checking
 * its signature again is the largest cost of an exchange after signing (docs/benchmarks.md). A signature check is
 * deterministic: the same bytes under the same key object give the same answer, so remembering it changes no
 * decision. Everything that depends on time or on the cluster (the key still being published, exp and nbf, the
 * pod binding) is still checked on every exchange by the caller.
 *
 * Entries are keyed by a SHA-256 digest of the whole token, never the token itself: the cache holds no credential.
 * It is bounded: past `maxEntries` the oldest entry goes, and entries past their token's exp are dropped when met.
 */
export class VerifiedSignatures {
  readonly #maxEntries: number;
  readonly #entries = new Map<string, { readonly key: KeyObject; readonly expiresAtSeconds: number }>();

  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    this.#maxEntries = maxEntries;
  }

  /** The cache key of a token; computed once per exchange and passed to both methods. */
  static digest(token: string): string {
    return createHash("sha256").update(token).digest("base64");
  }

  /** True when this digest's signature verified under exactly this key object and the token has not expired. */
  verifiedWith(digest: string, key: KeyObject, nowSeconds: number): boolean {
    const entry = this.#entries.get(digest);
    if (entry === undefined) return false;
    if (entry.expiresAtSeconds <= nowSeconds) {
      this.#entries.delete(digest);
      return false;
    }
    return entry.key === key;
  }

  /** Records a signature that just verified under `key`; tokens without a numeric exp are not remembered. */
  remember(digest: string, key: KeyObject, expiresAtSeconds: unknown): void {
    if (typeof expiresAtSeconds !== "number" || !Number.isFinite(expiresAtSeconds)) return;
    this.#entries.delete(digest);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(digest, { key, expiresAtSeconds });
  }

  get size(): number {
    return this.#entries.size;
  }
}
