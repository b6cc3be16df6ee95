// Optional live check by RFC 7662 introspection, for APIs that must see a revocation within seconds; answers cached.
import { MEDIA_TYPE_FORM, MEDIA_TYPE_JSON } from "../api/constants.ts";
import { VerifyError } from "./errors.ts";

export interface IntrospectionOptions {
  /** The bearer credential the API authenticates to the issuer with (for Tessera: its pod's projected token). Read per call, since it rotates. */
  readonly credentials: () => string | Promise<string>;
  /** Defaults to the issuer metadata's introspection_endpoint. */
  readonly endpoint?: string;
  /** How long an answer is reused (default 5 s): the most a revocation can go unseen beyond the issuer's own delay. */
  readonly cacheSeconds?: number;
  /** Most answers held (default 10 000); only tokens that already verified get here. */
  readonly maxEntries?: number;
}

export interface Introspector {
  /** Throws VerifyError("TokenInactive") when the issuer says the token is no longer active. */
  check(token: string, jti: string, exp: number): Promise<void>;
}

interface Entry {
  readonly until: number;
  readonly answer: Promise<boolean>;
}

export interface IntrospectorDeps {
  readonly endpoint: () => Promise<string>;
  readonly fetch: typeof fetch;
  readonly now: () => number;
}

export function introspector(options: IntrospectionOptions, deps: IntrospectorDeps): Introspector {
  const cacheMs = (options.cacheSeconds ?? 5) * 1000;
  const maxEntries = options.maxEntries ?? 10_000;
  if (!(cacheMs >= 0) || !Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError("introspection cacheSeconds >= 0 and maxEntries >= 1 are required");
  // Keyed by jti; a Map in insertion order doubles as least-recently-used once hits are moved to the back.
  const entries = new Map<string, Entry>();

  async function ask(token: string): Promise<boolean> {
    const endpoint = await deps.endpoint();
    let res: Response;
    try {
      res = await deps.fetch(endpoint, {
        method: "POST",
        headers: {
          authorization: `Bearer ${await options.credentials()}`,
          "content-type": MEDIA_TYPE_FORM,
          accept: MEDIA_TYPE_JSON,
        },
        body: new URLSearchParams({ token, token_type_hint: "access_token" }).toString(),
        redirect: "error",
      });
    } catch (error) {
      throw new VerifyError("IntrospectionUnavailable", "the issuer's introspection endpoint could not be reached", { cause: error });
    }
    const text = await res.text();
    if (res.status !== 200) throw new VerifyError("IntrospectionUnavailable", `the issuer's introspection endpoint answered ${res.status}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new VerifyError("IntrospectionUnavailable", "the issuer's introspection answer is not JSON");
    }
    const active = typeof body === "object" && body !== null ? (body as Record<string, unknown>)["active"] : undefined;
    if (typeof active !== "boolean") throw new VerifyError("IntrospectionUnavailable", "the issuer's introspection answer has no active member");
    return active;
  }

  return {
    async check(token, jti, exp) {
      const now = deps.now();
      let entry = entries.get(jti);
      if (entry !== undefined && entry.until > now) {
        entries.delete(jti);
        entries.set(jti, entry);
      } else {
        // Never cached past the token's own exp; failures are not cached (the next request asks again).
        entry = { until: Math.min(now + cacheMs, exp * 1000), answer: ask(token) };
        entries.delete(jti);
        entries.set(jti, entry);
        while (entries.size > maxEntries) {
          const oldest = entries.keys().next().value;
          if (oldest === undefined) break;
          entries.delete(oldest);
        }
        const pending = entry;
        pending.answer.catch(() => {
          if (entries.get(jti) === pending) entries.delete(jti);
        });
      }
      if (!(await entry.answer)) throw new VerifyError("TokenInactive", "the issuer reports this token inactive (revoked, or its pod or policy is gone)");
    },
  };
}
