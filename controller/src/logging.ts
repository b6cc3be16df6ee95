// The controller's root pino logger, built once at the entry point and passed down (never imported as a global).
import { pino, type Logger } from "pino";

export function createLogger(level: string, bindings: Readonly<Record<string, string>> = {}): Logger {
  return pino({
    level,
    base: { component: "tessera-controller", ...bindings },
    // Tokens, keys and Authorization headers must never reach a log line, even through an error object.
    redact: {
      paths: ["*.authorization", "*.Authorization", "*.token", "*.access_token", "*.subject_token", "*.actor_token", "*.privateKey", "*.key"],
      censor: "[redacted]",
    },
  });
}
