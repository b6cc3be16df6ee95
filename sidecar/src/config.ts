// Sidecar configuration: the injected environment parsed once into a frozen Config, every problem reported together.
import {
  ENV_DPOP,
  ENV_ISSUER_CA_FILE,
  ENV_ISSUER_URL,
  ENV_LOG_LEVEL,
  ENV_SIDECAR_HEALTH_PORT,
  ENV_SIDECAR_METRICS_PORT,
  ENV_SIDECAR_PORT,
  ENV_SIDECAR_SOCKET,
  ENV_SUBJECT_TOKEN_FILE,
  ENV_TOKEN_DIR,
  ENV_TOKENS,
  MAX_AUDIENCES_PER_POD,
  SIDECAR_DEFAULT_PORT,
} from "../../api/constants.ts";
import type { SidecarTokenSpec } from "../../api/exchange.ts";
import { ConfigError } from "./errors.ts";
import { audienceProblem, scopesProblem } from "./token-key.ts";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A token file name: no path separators, no leading dot (temp files start with one), short. */
const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export interface Config {
  /** Issuer base URL, always https, without a trailing slash. */
  readonly issuerUrl: string;
  readonly issuerCaFile: string;
  readonly subjectTokenFile: string;
  /** Tokens held from startup on, kept fresh and written to files; may be empty (on-demand only). */
  readonly tokens: readonly SidecarTokenSpec[];
  /** Where token files go; undefined means no files are written. */
  readonly tokenDir: string | undefined;
  /** Loopback port of the local endpoint; 0 picks a free port (tests). */
  readonly port: number;
  readonly socketPath: string | undefined;
  /** Port of the probe listener on every interface (terse /healthz and /readyz only); undefined means none. */
  readonly healthPort: number | undefined;
  /** Port of the metrics listener on every interface; undefined means metrics stay on loopback. */
  readonly metricsPort: number | undefined;
  readonly logLevel: LogLevel;
  /** When exchanges carry a DPoP proof (ENV_DPOP): "when-required" (default) or "always". */
  readonly dpopMode: "always" | "when-required";
}

type Env = Readonly<Record<string, string | undefined>>;

/** Parses the environment; throws ConfigError listing every problem found. */
export function parseConfig(env: Env): Config {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
  const required = (name: string): string => {
    const v = text(name);
    if (v === undefined) problems.push(`${name} is required`);
    return v ?? "";
  };

  const issuerUrl = parseIssuerUrl(required(ENV_ISSUER_URL), problems);
  const issuerCaFile = required(ENV_ISSUER_CA_FILE);
  const subjectTokenFile = required(ENV_SUBJECT_TOKEN_FILE);
  const tokens = parseTokens(text(ENV_TOKENS), problems);
  const tokenDir = text(ENV_TOKEN_DIR);
  if (tokenDir !== undefined && !tokenDir.startsWith("/")) problems.push(`${ENV_TOKEN_DIR} must be an absolute path`);
  const port = parsePort(ENV_SIDECAR_PORT, text(ENV_SIDECAR_PORT), problems) ?? SIDECAR_DEFAULT_PORT;
  const healthPort = parsePort(ENV_SIDECAR_HEALTH_PORT, text(ENV_SIDECAR_HEALTH_PORT), problems);
  if (healthPort !== undefined && healthPort !== 0 && healthPort === port) {
    problems.push(`${ENV_SIDECAR_HEALTH_PORT} must differ from ${ENV_SIDECAR_PORT}`);
  }
  const metricsPort = parsePort(ENV_SIDECAR_METRICS_PORT, text(ENV_SIDECAR_METRICS_PORT), problems);
  if (metricsPort !== undefined && metricsPort !== 0) {
    if (metricsPort === port) problems.push(`${ENV_SIDECAR_METRICS_PORT} must differ from ${ENV_SIDECAR_PORT}`);
    if (metricsPort === healthPort) problems.push(`${ENV_SIDECAR_METRICS_PORT} must differ from ${ENV_SIDECAR_HEALTH_PORT}`);
  }
  const socketPath = text(ENV_SIDECAR_SOCKET);
  if (socketPath !== undefined && !socketPath.startsWith("/")) {
    problems.push(`${ENV_SIDECAR_SOCKET} must be an absolute path`);
  }
  const level = text(ENV_LOG_LEVEL) ?? "info";
  const dpop = text(ENV_DPOP) ?? "when-required";
  if (dpop !== "always" && dpop !== "when-required") problems.push(`${ENV_DPOP} must be "always" or "when-required"`);
  const logLevel = LOG_LEVELS.find((l) => l === level);
  if (logLevel === undefined) problems.push(`${ENV_LOG_LEVEL} must be one of ${LOG_LEVELS.join(", ")}`);

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    issuerUrl,
    issuerCaFile,
    subjectTokenFile,
    tokens,
    tokenDir,
    port,
    socketPath,
    healthPort,
    metricsPort,
    logLevel: logLevel ?? "info",
    dpopMode: dpop === "always" ? "always" : "when-required",
  });
}

function parseIssuerUrl(raw: string, problems: string[]): string {
  if (raw === "") return raw;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`${ENV_ISSUER_URL} is not a URL`);
    return raw;
  }
  // The subject token is a credential: it only ever travels over TLS.
  if (url.protocol !== "https:") problems.push(`${ENV_ISSUER_URL} must use https`);
  if (url.search !== "" || url.hash !== "") problems.push(`${ENV_ISSUER_URL} must not carry a query or fragment`);
  if (url.username !== "" || url.password !== "") problems.push(`${ENV_ISSUER_URL} must not carry credentials`);
  return url.href.replace(/\/+$/, "");
}

function parsePort(name: string, raw: string | undefined, problems: string[]): number | undefined {
  if (raw === undefined) return undefined;
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    problems.push(`${name} must be a port number between 0 and 65535`);
    return undefined;
  }
  return n;
}

function parseTokens(raw: string | undefined, problems: string[]): readonly SidecarTokenSpec[] {
  if (raw === undefined) return Object.freeze([]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    problems.push(`${ENV_TOKENS} is not valid JSON`);
    return Object.freeze([]);
  }
  if (!Array.isArray(parsed)) {
    problems.push(`${ENV_TOKENS} must be a JSON array of {name, audience, scopes?}`);
    return Object.freeze([]);
  }
  // Each entry is a token held and refreshed for the pod's lifetime; admission never injects more than this.
  if (parsed.length > MAX_AUDIENCES_PER_POD) {
    problems.push(`${ENV_TOKENS} lists ${parsed.length} tokens; a sidecar holds at most ${MAX_AUDIENCES_PER_POD}`);
    return Object.freeze([]);
  }
  const specs: SidecarTokenSpec[] = [];
  const names = new Set<string>();
  parsed.forEach((item: unknown, i) => {
    const at = `${ENV_TOKENS}[${i}]`;
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      problems.push(`${at} must be an object`);
      return;
    }
    const rec = item as Record<string, unknown>;
    const unknownKeys = Object.keys(rec).filter((k) => k !== "name" && k !== "audience" && k !== "scopes");
    if (unknownKeys.length > 0) problems.push(`${at} has unknown field(s) ${unknownKeys.join(", ")}`);
    const { name, audience, scopes } = rec;
    let ok = true;
    if (typeof name !== "string" || !TOKEN_NAME.test(name)) {
      problems.push(`${at}.name must match ${TOKEN_NAME.source} (it becomes a file name)`);
      ok = false;
    } else if (names.has(name)) {
      problems.push(`${at}.name ${JSON.stringify(name)} is used twice`);
      ok = false;
    } else {
      names.add(name);
    }
    const audError = typeof audience === "string" ? audienceProblem(audience) : "audience must be a string";
    if (audError !== undefined) {
      problems.push(`${at}.audience: ${audError}`);
      ok = false;
    }
    let scopeList: string[] | undefined;
    if (scopes !== undefined) {
      if (!Array.isArray(scopes) || !scopes.every((s): s is string => typeof s === "string")) {
        problems.push(`${at}.scopes must be an array of strings`);
        ok = false;
      } else {
        const scopeError = scopesProblem(scopes);
        if (scopeError !== undefined) {
          problems.push(`${at}.scopes: ${scopeError}`);
          ok = false;
        }
        scopeList = scopes;
      }
    }
    if (ok && typeof name === "string" && typeof audience === "string") {
      specs.push(
        Object.freeze(
          scopeList === undefined ? { name, audience } : { name, audience, scopes: Object.freeze([...scopeList]) },
        ),
      );
    }
  });
  return Object.freeze(specs);
}
