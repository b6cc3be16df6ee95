// The cluster's service-account signing keys, from OIDC discovery + JWKS: cached, refetched with a cooldown, never trusted past a maximum staleness.
import type { KeyObject } from "node:crypto";
import { IssuerError } from "../errors.ts";
import type { FetchJson } from "./fetch-json.ts";
import { importPublicJwk } from "../keys/jws.ts";

export interface RemoteKeySetOptions {
  /** The service-account issuer (`iss` of projected tokens); discovery is read from `${issuer}/.well-known/openid-configuration`. */
  readonly issuer: string;
  /** Fetch the JWKS from here instead of the advertised jwks_uri (in-cluster the advertised one may be unreachable). */
  readonly jwksUrl?: string;
  readonly fetchJson: FetchJson;
  readonly now: () => Date;
  /**
   * Least time between two fetch attempts, whatever caused them (an unknown kid, a stale set, a failed fetch), so
   * forged kids or an unreachable apiserver cannot turn every lookup into a fetch.
   */
  readonly cooldownMs?: number;
  /** Refetch a key set older than this on the next lookup. */
  readonly maxAgeMs?: number;
  /** Defaults to MAX_KEY_SET_STALENESS_MS. */
  readonly maxStalenessMs?: number;
}

/**
 * How long after the last successful fetch a key set is still trusted while refetching fails: 24 h. The cluster
 * withdraws a service-account key when it is rotated out, perhaps because it leaked; a verifier that cannot learn
 * that must stop trusting what it holds at some point. A day outlasts any apiserver outage an operator would ride
 * out, and matches the oldest projected token accepted; past it, verification fails closed (temporarily_unavailable).
 */
export const MAX_KEY_SET_STALENESS_MS = 24 * 60 * 60 * 1000;

interface Loaded {
  readonly keys: ReadonlyMap<string, KeyObject>;
  readonly fetchedAt: number;
}

/** Looks up verification keys by kid. */
export class RemoteKeySet {
  readonly #options: RemoteKeySetOptions;
  readonly #cooldownMs: number;
  readonly #maxAgeMs: number;
  readonly #maxStalenessMs: number;
  #loaded: Loaded | undefined;
  #lastAttempt = Number.NEGATIVE_INFINITY;
  /** Why the last fetch failed, for the error that says the keys cannot be trusted; cleared by a success. */
  #lastFailure: string | undefined;
  #inflight: Promise<Loaded> | undefined;

  constructor(options: RemoteKeySetOptions) {
    this.#options = options;
    this.#cooldownMs = options.cooldownMs ?? 10_000;
    this.#maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
    this.#maxStalenessMs = options.maxStalenessMs ?? MAX_KEY_SET_STALENESS_MS;
    if (this.#maxStalenessMs < this.#maxAgeMs) {
      throw new TypeError(`maxStalenessMs (${this.#maxStalenessMs}) must be at least maxAgeMs (${this.#maxAgeMs})`);
    }
  }

  /** True once a key set has been loaded. */
  get ready(): boolean {
    return this.#loaded !== undefined;
  }

  /**
   * The key with `kid`, or undefined when the issuer does not publish it (after a refetch, cooldown permitting).
   * Throws UpstreamUnavailable when no key set was ever loaded, or the one held is past the maximum staleness.
   */
  async get(kid: string): Promise<KeyObject | undefined> {
    const now = this.#options.now().getTime();
    let loaded = this.#loaded;
    if ((loaded === undefined || now - loaded.fetchedAt > this.#maxAgeMs) && this.#mayFetch(now)) {
      loaded = await this.#refresh(loaded);
    }
    const key = this.#trusted(loaded, now).keys.get(kid);
    if (key !== undefined || !this.#mayFetch(now)) return key;
    return this.#trusted(await this.#refresh(loaded), now).keys.get(kid);
  }

  /** A fetch already under way is joined; a new one waits out the cooldown since the last attempt. */
  #mayFetch(now: number): boolean {
    return this.#inflight !== undefined || now - this.#lastAttempt >= this.#cooldownMs;
  }

  /** The key set if it may still be trusted; otherwise fails closed with what went wrong. */
  #trusted(loaded: Loaded | undefined, now: number): Loaded {
    const why = this.#lastFailure === undefined ? "" : `; the last fetch failed: ${this.#lastFailure}`;
    if (loaded === undefined) {
      throw new IssuerError("UpstreamUnavailable", `the cluster's service-account keys are not loaded yet${why}`);
    }
    const ageMs = now - loaded.fetchedAt;
    if (ageMs > this.#maxStalenessMs) {
      throw new IssuerError(
        "UpstreamUnavailable",
        `the cluster's service-account keys were last fetched ${Math.round(ageMs / 1000)} s ago, more than the ${Math.round(this.#maxStalenessMs / 1000)} s they are trusted without a refresh${why}`,
      );
    }
    return loaded;
  }

  /** The fetched key set, or on failure the previous one (undefined if none): #trusted decides what is usable. */
  async #refresh(previous: Loaded | undefined): Promise<Loaded | undefined> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined;
    });
    try {
      return await this.#inflight;
    } catch (error) {
      this.#lastFailure = error instanceof Error ? error.message : String(error);
      // A stale key set beats none while the apiserver is briefly unreachable (up to the maximum staleness).
      return previous;
    }
  }

  async #fetch(): Promise<Loaded> {
    this.#lastAttempt = this.#options.now().getTime();
    const url = this.#options.jwksUrl ?? (await this.#discoverJwksUri());
    const jwks = await this.#options.fetchJson(url);
    const keys = new Map<string, KeyObject>();
    const list = (jwks as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(list)) throw new IssuerError("UpstreamUnavailable", `${url} is not a JWK set`);
    for (const entry of list as unknown[]) {
      if (typeof entry !== "object" || entry === null) continue;
      const jwk = entry as Record<string, unknown>;
      const kid = jwk["kid"];
      // Keys for encryption only are not signing keys.
      if (typeof kid !== "string" || (jwk["use"] !== undefined && jwk["use"] !== "sig")) continue;
      const key = importPublicJwk(jwk);
      if (key !== undefined) keys.set(kid, key);
    }
    const loaded = { keys, fetchedAt: this.#options.now().getTime() };
    this.#loaded = loaded;
    this.#lastFailure = undefined;
    return loaded;
  }

  async #discoverJwksUri(): Promise<string> {
    const issuer = this.#options.issuer.replace(/\/$/, "");
    const url = `${issuer}/.well-known/openid-configuration`;
    const doc = (await this.#options.fetchJson(url)) as { issuer?: unknown; jwks_uri?: unknown } | null;
    if (doc?.issuer !== this.#options.issuer) {
      throw new IssuerError("UpstreamUnavailable", `${url} names issuer ${JSON.stringify(doc?.issuer)}, not ${this.#options.issuer}`);
    }
    if (typeof doc.jwks_uri !== "string") throw new IssuerError("UpstreamUnavailable", `${url} has no jwks_uri`);
    return doc.jwks_uri;
  }
}
