// What a cached token is keyed by: an audience and a sorted, de-duplicated scope set, validated once.

/** Upper bound on an audience's length: longer values are a mistake or an attack, never a real audience. */
const MAX_AUDIENCE_LENGTH = 512;
/** Upper bound on scopes per request. */
const MAX_SCOPES = 32;
/** RFC 6749 section 3.3 scope-token: printable ASCII without space, double quote and backslash. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;
/** Printable characters without whitespace: an audience is a URI or a plain identifier. */
const AUDIENCE = /^[\x21-\x7E]+$/;

/** One (audience, scopes) pair; scopes are sorted and unique so equal requests share one cache entry. */
export interface TokenKey {
  readonly audience: string;
  readonly scopes: readonly string[];
}

/** Why an audience or scope was refused; the caller turns it into a config problem or a 400. */
export function audienceProblem(audience: string): string | undefined {
  if (audience.length === 0) return "audience is empty";
  if (audience.length > MAX_AUDIENCE_LENGTH) return `audience is longer than ${MAX_AUDIENCE_LENGTH} characters`;
  if (!AUDIENCE.test(audience)) return "audience contains whitespace or non-printable characters";
  return undefined;
}

export function scopesProblem(scopes: readonly string[]): string | undefined {
  if (scopes.length > MAX_SCOPES) return `more than ${MAX_SCOPES} scopes`;
  const bad = scopes.find((s) => !SCOPE_TOKEN.test(s));
  return bad === undefined ? undefined : `scope ${JSON.stringify(bad.slice(0, 64))} is not a valid scope token`;
}

/** Builds the canonical key; assumes the parts were validated. */
export function tokenKey(audience: string, scopes: readonly string[]): TokenKey {
  return Object.freeze({ audience, scopes: Object.freeze([...new Set(scopes)].sort()) });
}

/** Stable string form of a key, used as a map key (a newline cannot occur in a valid audience). */
export function keyId(key: TokenKey): string {
  return `${key.audience}\n${key.scopes.join(" ")}`;
}

/** Splits space-separated scope strings (OAuth's wire form) into scope tokens. */
export function splitScopes(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(" ")).filter((s) => s.length > 0);
}
