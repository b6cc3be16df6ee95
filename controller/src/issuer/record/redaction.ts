// Redaction layer of the decision log: no string shaped like a token or key ever reaches a log line.

/** What a refused string is replaced with, so the line still says something was there. */
export const REDACTED_JWT = "[redacted:jwt]";
export const REDACTED_KEY = "[redacted:key]";

// A compact JWS/JWE starts with a base64url JSON header, and every JSON object starts with `{"` = "eyJ".
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.?/;
// PEM armour of any kind (private keys, certificates, public keys): none belongs in a decision record.
const PEM_SHAPE = /-----BEGIN [A-Z0-9 ]+-----/;
// Private members of a JWK (RFC 7518 section 6): the value under such a key inside a JWK-shaped object is secret.
const PRIVATE_JWK_MEMBERS = new Set(["d", "p", "q", "dp", "dq", "qi", "k", "oth"]);

/** What the value under a sensitive field name is replaced with, whatever its shape. */
export const REDACTED_FIELD = "[redacted]";
/**
 * Field names whose values are secret by name, whatever they look like, one level below the top of a log line
 * (pino's `*.name` paths): the root logger censors them by path, and redact() censors them at the same place, so
 * the decision log can skip pino's path redaction and keep exactly its effect.
 */
export const SENSITIVE_FIELD_NAMES: readonly string[] = ["authorization", "Authorization", "token", "access_token", "subject_token", "actor_token", "privateKey", "key"];
const SENSITIVE_FIELDS: ReadonlySet<string> = new Set(SENSITIVE_FIELD_NAMES);

/** True when `value` looks like a JWT or a PEM block (anywhere inside it). */
export function looksLikeSecret(value: string): boolean {
  return JWT_SHAPE.test(value) || PEM_SHAPE.test(value);
}

// The literal every match of each shape contains: most strings of a record (names, labels) contain neither, and
// a substring search rejects them several times faster than the two regular expressions (docs/benchmarks.md).
const PEM_MARK = "-----BEGIN ";
const JWT_MARK = "eyJ";

function redactString(value: string): string {
  if (value.includes(PEM_MARK) && PEM_SHAPE.test(value)) return REDACTED_KEY;
  if (value.includes(JWT_MARK) && JWT_SHAPE.test(value)) return REDACTED_JWT;
  return value;
}

function isJwkShaped(value: Readonly<Record<string, unknown>>): boolean {
  return typeof value["kty"] === "string";
}

/**
 * A deep copy of `value` in which every token- or key-shaped string, every private JWK member and every value under a
 * sensitive field name one level down (as the root logger's paths reach) is replaced.
 * Depth is bounded so a hostile, deeply nested claim value cannot blow the stack of the logger.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 32) return "[redacted:depth]";
  if (typeof value === "string") return redactString(value);
  if (Array.isArray(value)) return value.map((item: unknown) => redact(item, depth + 1));
  if (value !== null && typeof value === "object") {
    const record = value as Readonly<Record<string, unknown>>;
    const jwk = isJwkShaped(record);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(record)) {
      out[redactString(key)] = depth === 1 && SENSITIVE_FIELDS.has(key) ? REDACTED_FIELD : jwk && PRIVATE_JWK_MEMBERS.has(key) ? REDACTED_KEY : redact(item, depth + 1);
    }
    return out;
  }
  return value;
}
