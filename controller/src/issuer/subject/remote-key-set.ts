// The cluster's service-account signing keys, from OIDC discovery + JWKS: cached, refetched on an unknown kid with a cooldown.
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
  /** Least time between two fetches caused by unknown kids, so forged kids cannot make us hammer the apiserver. */
  readonly cooldownMs?: number;
  /** Refetch a key set older than this on the next lookup. */
  readonly maxAgeMs?: number;
}

interface Loaded {
  readonly keys: ReadonlyMap<string, KeyObject>;
  readonly fetchedAt: number;
}

/** Looks up verification keys by kid. */
export class RemoteKeySet {
  readonly #options: RemoteKeySetOptions;
  readonly #cooldownMs: number;
  readonly #maxAgeMs: number;
  #loaded: Loaded | undefined;
  #lastAttempt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<Loaded> | undefined;

  constructor(options: RemoteKeySetOptions) {
    this.#options = options;
    this.#cooldownMs = options.cooldownMs ?? 10_000;
    this.#maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
  }

  /** True once a key set has been loaded. */
  get ready(): boolean {
    return this.#loaded !== undefined;
  }

  /** The key with `kid`, or undefined when the issuer does not publish it (after a refetch, cooldown permitting). */
  async get(kid: string): Promise<KeyObject | undefined> {
    const now = this.#options.now().getTime();
    let loaded = this.#loaded;
    if (loaded === undefined || now - loaded.fetchedAt > this.#maxAgeMs) {
      loaded = await this.#refresh(loaded);
    }
    const key = loaded.keys.get(kid);
    if (key !== undefined) return key;
    if (now - this.#lastAttempt < this.#cooldownMs) return undefined;
    return (await this.#refresh(loaded)).keys.get(kid);
  }

  async #refresh(previous: Loaded | undefined): Promise<Loaded> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined;
    });
    try {
      return await this.#inflight;
    } catch (error) {
      // A stale key set beats none while the apiserver is briefly unreachable.
      if (previous !== undefined) return previous;
      throw error;
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
