// The CI deploy example's kube-apiserver AuthenticationConfiguration, filled in for one cluster: shared by the
// integration stack (a private control plane) and the node tier (the chart on a real node).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { EXAMPLES_DIR } from "../support/crds.ts";

export const AUTHENTICATION_CONFIG_PATH = join(EXAMPLES_DIR, "ci-deploy", "apiserver", "authentication-config.yaml");

/** The example's AuthenticationConfiguration with the issuer URL and CA of this run filled in. */
export async function authenticationConfigFor(issuerUrl: string, caPem: string): Promise<Record<string, unknown>> {
  const config = parse(await readFile(AUTHENTICATION_CONFIG_PATH, "utf8")) as { jwt: { issuer: Record<string, unknown> }[] };
  const [jwt] = config.jwt;
  if (jwt === undefined) throw new Error(`${AUTHENTICATION_CONFIG_PATH} has no jwt authenticator`);
  jwt.issuer["url"] = issuerUrl;
  jwt.issuer["certificateAuthority"] = caPem;
  return config;
}
