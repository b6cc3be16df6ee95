// Reads `exp` from a compact JWT without verifying it: the sidecar only needs to know when a token it holds ends.

/**
 * Returns the token's expiry, or undefined when the token is not a compact JWT with a numeric `exp`.
 * No signature check on purpose: the issuer and resource servers verify; the sidecar only schedules.
 */
export function readJwtExpiry(token: string): Date | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const payload = parts[1];
  if (payload === undefined || payload.length === 0 || !/^[A-Za-z0-9_-]+$/.test(payload)) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof claims !== "object" || claims === null) return undefined;
  const exp = (claims as Record<string, unknown>)["exp"];
  if (typeof exp !== "number" || !Number.isFinite(exp) || exp <= 0) return undefined;
  return new Date(exp * 1000);
}
