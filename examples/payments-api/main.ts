// Runs the payments API: settings from the environment, read once; the issuer's CA trusted for discovery and keys.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { createVerifier, httpsFetch } from "../../verify/index.ts";
import { paymentsApi } from "./app.ts";

export interface PaymentsConfig {
  readonly issuer: string;
  readonly audience: string;
  readonly issuerCaFile: string;
  readonly origin: string;
  readonly port: number;
}

/** Every problem at once, so a misconfigured deployment is fixed in one go. */
export function paymentsConfig(env: NodeJS.ProcessEnv): PaymentsConfig {
  const problems: string[] = [];
  const need = (name: string): string => {
    const value = env[name];
    if (value === undefined || value === "") problems.push(`${name} is required`);
    return value ?? "";
  };
  const config = {
    issuer: need("PAYMENTS_TOKEN_ISSUER"),
    audience: env["PAYMENTS_AUDIENCE"] ?? "https://payments.internal.example",
    issuerCaFile: need("PAYMENTS_ISSUER_CA_FILE"),
    origin: need("PAYMENTS_ORIGIN"),
    port: Number(env["PAYMENTS_PORT"] ?? "8080"),
  };
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) problems.push("PAYMENTS_PORT must be a port number");
  if (problems.length > 0) throw new TypeError(problems.join("; "));
  return Object.freeze(config);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const config = paymentsConfig(process.env);
  const verifier = createVerifier({
    issuer: config.issuer,
    audience: config.audience,
    fetch: httpsFetch({ ca: readFileSync(config.issuerCaFile, "utf8") }),
  });
  paymentsApi({ verifier, origin: config.origin }).listen(config.port, () => {
    process.stdout.write(`payments API on :${config.port} for audience ${config.audience}\n`);
  });
}
