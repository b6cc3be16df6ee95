// Sidecar configuration: valid environments parse into a frozen Config; invalid ones list every problem at once.
import { describe, expect, it } from "vitest";
import {
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
} from "../../../api/constants.ts";
import { parseConfig } from "../../../sidecar/src/config.ts";
import { ConfigError } from "../../../sidecar/src/errors.ts";

const base = {
  [ENV_ISSUER_URL]: "https://tessera-issuer.tessera-system.svc:8443/",
  [ENV_ISSUER_CA_FILE]: "/var/run/tessera/ca/ca.crt",
  [ENV_SUBJECT_TOKEN_FILE]: "/var/run/tessera/subject/token",
};

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    parseConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe("CONFIG_INVALID");
    return (err as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
  it("parses a minimal environment with defaults and freezes the result", () => {
    const config = parseConfig(base);
    expect(config).toEqual({
      issuerUrl: "https://tessera-issuer.tessera-system.svc:8443",
      issuerCaFile: "/var/run/tessera/ca/ca.crt",
      subjectTokenFile: "/var/run/tessera/subject/token",
      tokens: [],
      tokenDir: undefined,
      port: SIDECAR_DEFAULT_PORT,
      socketPath: undefined,
      healthPort: undefined,
      metricsPort: undefined,
      logLevel: "info",
      dpopMode: "when-required",
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.tokens)).toBe(true);
  });

  it("parses configured tokens, ports, socket, token directory and log level", () => {
    const config = parseConfig({
      ...base,
      [ENV_TOKENS]: JSON.stringify([
        { name: "payments", audience: "https://payments.example", scopes: ["payments:read", "payments:write"] },
        { name: "ledger", audience: "ledger" },
      ]),
      [ENV_TOKEN_DIR]: "/var/run/tessera/tokens",
      [ENV_SIDECAR_PORT]: "9000",
      [ENV_SIDECAR_HEALTH_PORT]: "9001",
      [ENV_SIDECAR_METRICS_PORT]: "9002",
      [ENV_SIDECAR_SOCKET]: "/var/run/tessera/tokens/sidecar.sock",
      [ENV_LOG_LEVEL]: "debug",
    });
    expect(config.tokens).toEqual([
      { name: "payments", audience: "https://payments.example", scopes: ["payments:read", "payments:write"] },
      { name: "ledger", audience: "ledger" },
    ]);
    expect(config).toMatchObject({ port: 9000, healthPort: 9001, metricsPort: 9002, logLevel: "debug", tokenDir: "/var/run/tessera/tokens" });
  });

  it("reports every problem of an environment at once", () => {
    const problems = problemsOf({
      [ENV_ISSUER_URL]: "http://issuer.example",
      [ENV_TOKENS]: JSON.stringify([{ name: "../etc/passwd", audience: "" }, { name: "a", audience: "x", extra: 1 }]),
      [ENV_SIDECAR_PORT]: "70000",
      [ENV_LOG_LEVEL]: "loud",
      [ENV_TOKEN_DIR]: "relative/dir",
    });
    expect(problems).toEqual([
      `${ENV_ISSUER_URL} must use https`,
      `${ENV_ISSUER_CA_FILE} is required`,
      `${ENV_SUBJECT_TOKEN_FILE} is required`,
      `${ENV_TOKENS}[0].name must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$ (it becomes a file name)`,
      `${ENV_TOKENS}[0].audience: audience is empty`,
      `${ENV_TOKENS}[1] has unknown field(s) extra`,
      `${ENV_TOKEN_DIR} must be an absolute path`,
      `${ENV_SIDECAR_PORT} must be a port number between 0 and 65535`,
      `${ENV_LOG_LEVEL} must be one of fatal, error, warn, info, debug, trace, silent`,
    ]);
  });

  it.each([
    ["is not JSON", "[{", `${ENV_TOKENS} is not valid JSON`],
    ["is not an array", `{"name":"a"}`, `${ENV_TOKENS} must be a JSON array of {name, audience, scopes?}`],
    ["holds a non-object", `["a"]`, `${ENV_TOKENS}[0] must be an object`],
    ["repeats a name", `[{"name":"a","audience":"x"},{"name":"a","audience":"y"}]`, `${ENV_TOKENS}[1].name "a" is used twice`],
    ["has non-string scopes", `[{"name":"a","audience":"x","scopes":[1]}]`, `${ENV_TOKENS}[0].scopes must be an array of strings`],
    [
      "has a scope with a space",
      `[{"name":"a","audience":"x","scopes":["a b"]}]`,
      `${ENV_TOKENS}[0].scopes: scope "a b" is not a valid scope token`,
    ],
    ["has an audience with whitespace", `[{"name":"a","audience":"x y"}]`, `${ENV_TOKENS}[0].audience: audience contains whitespace or non-printable characters`],
    ["has a hidden-file name", `[{"name":".a","audience":"x"}]`, `${ENV_TOKENS}[0].name must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$ (it becomes a file name)`],
  ])("rejects %s in the tokens list", (_case, tokens, problem) => {
    expect(problemsOf({ ...base, [ENV_TOKENS]: tokens })).toEqual([problem]);
  });

  it("holds up to MAX_AUDIENCES_PER_POD tokens and refuses one more", () => {
    const tokens = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ name: `t${i}`, audience: `svc-${i}` })));
    expect(parseConfig({ ...base, [ENV_TOKENS]: tokens(MAX_AUDIENCES_PER_POD) }).tokens).toHaveLength(MAX_AUDIENCES_PER_POD);
    expect(problemsOf({ ...base, [ENV_TOKENS]: tokens(MAX_AUDIENCES_PER_POD + 1) })).toEqual([
      `${ENV_TOKENS} lists ${MAX_AUDIENCES_PER_POD + 1} tokens; a sidecar holds at most ${MAX_AUDIENCES_PER_POD}`,
    ]);
  });

  it.each([
    ["an issuer URL with a query", { [ENV_ISSUER_URL]: "https://issuer?x=1" }, `${ENV_ISSUER_URL} must not carry a query or fragment`],
    ["an issuer URL with credentials", { [ENV_ISSUER_URL]: "https://u:p@issuer" }, `${ENV_ISSUER_URL} must not carry credentials`],
    ["an issuer value that is no URL", { [ENV_ISSUER_URL]: "issuer" }, `${ENV_ISSUER_URL} is not a URL`],
    ["the same health and token port", { [ENV_SIDECAR_PORT]: "9000", [ENV_SIDECAR_HEALTH_PORT]: "9000" }, `${ENV_SIDECAR_HEALTH_PORT} must differ from ${ENV_SIDECAR_PORT}`],
    ["the same metrics and token port", { [ENV_SIDECAR_PORT]: "9000", [ENV_SIDECAR_METRICS_PORT]: "9000" }, `${ENV_SIDECAR_METRICS_PORT} must differ from ${ENV_SIDECAR_PORT}`],
    ["the same metrics and health port", { [ENV_SIDECAR_HEALTH_PORT]: "9001", [ENV_SIDECAR_METRICS_PORT]: "9001" }, `${ENV_SIDECAR_METRICS_PORT} must differ from ${ENV_SIDECAR_HEALTH_PORT}`],
    ["a metrics port that is no port", { [ENV_SIDECAR_METRICS_PORT]: "http" }, `${ENV_SIDECAR_METRICS_PORT} must be a port number between 0 and 65535`],
    ["a relative socket path", { [ENV_SIDECAR_SOCKET]: "sidecar.sock" }, `${ENV_SIDECAR_SOCKET} must be an absolute path`],
  ])("rejects %s", (_case, env, problem) => {
    expect(problemsOf({ ...base, ...env })).toEqual([problem]);
  });
});
