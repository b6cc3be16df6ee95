// The controller's root pino logger, built once at the entry point and passed down (never imported as a global).
import { pino, type Logger } from "pino";
import { REDACTED_FIELD, SENSITIVE_FIELD_NAMES } from "./issuer/record/redaction.ts";

export function createLogger(level: string, bindings: Readonly<Record<string, string>> = {}): Logger {
  return pino({
    level,
    base: { component: "tessera-controller", ...bindings },
    // Tokens, keys and Authorization headers must never reach a log line, even through an error object.
    redact: {
      paths: SENSITIVE_FIELD_NAMES.map((name) => `*.${name}`),
      censor: REDACTED_FIELD,
    },
  });
}
