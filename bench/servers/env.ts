// Settings the bench passes to its server processes, read once at their entry points.
import { readFileSync } from "node:fs";

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is required`);
  return value;
}

export function portFromEnv(): number {
  return Number(requiredEnv("BENCH_PORT"));
}

/** PEM certificate and key of the serving TLS material (the controller's own, so every HTTPS server uses the same). */
export function tlsFromEnv(): { cert: string; key: string } {
  return { cert: readFileSync(requiredEnv("BENCH_CERT_FILE"), "utf8"), key: readFileSync(requiredEnv("BENCH_KEY_FILE"), "utf8") };
}

/** A token-sized response body, so a no-op endpoint writes as many bytes as a real one. */
export function tokenSizedBody(tokenLength: number): string {
  return JSON.stringify({
    access_token: "x".repeat(tokenLength),
    issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
    token_type: "Bearer",
    expires_in: 600,
  });
}
