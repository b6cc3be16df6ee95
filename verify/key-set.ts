// The issuer's verification keys: RFC 8414 discovery once, then jose's remote key set (cached, refetched on an unknown kid).
import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from "jose";
import { PATH_OAUTH_METADATA } from "../api/constants.ts";
import { VerifyError } from "./errors.ts";

export interface IssuerMetadata {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly introspectionEndpoint?: string;
}

export interface KeySetOptions {
  readonly issuer: string;
  /** Skip discovery and read keys here. */
  readonly jwksUri?: string;
  readonly fetch: typeof fetch;
  /** Least time between two fetches of the key set, even for unknown kids: a stream of forged kids costs one fetch. */
  readonly cooldownMs: number;
  /** Keys are refetched after this long even when every kid is known. */
  readonly maxAgeMs: number;
  readonly now: () => number;
}

export interface IssuerKeys {
  metadata(): Promise<IssuerMetadata>;
  /** The jose key resolver; throws VerifyError("IssuerUnavailable") when discovery fails. */
  resolver(): Promise<JWTVerifyGetKey>;
}

/** Bytes of a discovery document read at most. */
const MAX_METADATA_BYTES = 64 * 1024;

async function fetchMetadata(options: KeySetOptions): Promise<IssuerMetadata> {
  const url = `${options.issuer.replace(/\/$/, "")}${PATH_OAUTH_METADATA}`;
  const res = await options.fetch(url, { headers: { accept: "application/json" }, redirect: "error" });
  const text = await res.text();
  if (res.status !== 200 || text.length > MAX_METADATA_BYTES) throw new Error(`${url} answered ${res.status}`);
  const doc = JSON.parse(text) as Record<string, unknown>;
  // RFC 8414 section 3.3: the issuer in the document must be exactly the one configured, or nothing it says counts.
  if (doc["issuer"] !== options.issuer) throw new Error(`${url} names issuer ${JSON.stringify(doc["issuer"])}, not ${options.issuer}`);
  const jwksUri = doc["jwks_uri"];
  if (typeof jwksUri !== "string" || new URL(jwksUri).protocol !== "https:") throw new Error(`${url} has no https jwks_uri`);
  const introspection = doc["introspection_endpoint"];
  return { issuer: options.issuer, jwksUri, ...(typeof introspection === "string" ? { introspectionEndpoint: introspection } : {}) };
}

/** Discovery runs on first use and is retried at most once per cooldown after a failure. */
export function issuerKeys(options: KeySetOptions): IssuerKeys {
  let metadata: Promise<IssuerMetadata> | undefined =
    options.jwksUri === undefined ? undefined : Promise.resolve({ issuer: options.issuer, jwksUri: options.jwksUri });
  let failedAt = Number.NEGATIVE_INFINITY;
  let failure: unknown;
  let keys: JWTVerifyGetKey | undefined;

  async function loadMetadata(): Promise<IssuerMetadata> {
    if (metadata !== undefined) return metadata;
    if (options.now() - failedAt < options.cooldownMs) {
      throw new VerifyError("IssuerUnavailable", "the issuer's metadata could not be read; retry shortly", { cause: failure });
    }
    const pending = fetchMetadata(options);
    metadata = pending;
    try {
      return await pending;
    } catch (error) {
      metadata = undefined;
      failedAt = options.now();
      failure = error;
      throw new VerifyError("IssuerUnavailable", "the issuer's metadata could not be read; retry shortly", { cause: error });
    }
  }

  return {
    metadata: loadMetadata,
    async resolver() {
      if (keys !== undefined) return keys;
      const { jwksUri } = await loadMetadata();
      keys = createRemoteJWKSet(new URL(jwksUri), {
        cooldownDuration: options.cooldownMs,
        cacheMaxAge: options.maxAgeMs,
        timeoutDuration: 5_000,
        [customFetch]: (url, init) => options.fetch(url, init),
      });
      return keys;
    },
  };
}
