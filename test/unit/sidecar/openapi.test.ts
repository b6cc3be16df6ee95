// The published OpenAPI description of the local API agrees with the constants and error codes the sidecar uses.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { PATH_HEALTHZ, PATH_METRICS, PATH_READYZ, SIDECAR_DEFAULT_PORT, SIDECAR_GUARD_HEADER, SIDECAR_PATH_ACT, SIDECAR_PATH_DELEGATION, SIDECAR_PATH_PROOF, SIDECAR_PATH_TOKEN } from "../../../api/constants.ts";
import { OAUTH_ERROR_CODES } from "../../../api/exchange.ts";
import { SIDECAR_ERROR_CODES } from "../../../sidecar/src/errors.ts";

interface Doc {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, { get: { parameters?: { name: string; in: string; required: boolean }[] } }>;
  components: { schemas: { Error: { properties: { error: { enum: string[] }; tessera_sidecar_error: { enum: string[] } } } } };
}

const load = async (): Promise<Doc> =>
  parse(await readFile(join(import.meta.dirname, "../../../docs/sidecar-openapi.yaml"), "utf8")) as Doc;

describe("docs/sidecar-openapi.yaml", () => {
  it("describes exactly the sidecar's endpoints on its default port", async () => {
    const doc = await load();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual([PATH_HEALTHZ, PATH_METRICS, PATH_READYZ, SIDECAR_PATH_ACT, SIDECAR_PATH_DELEGATION, SIDECAR_PATH_PROOF, SIDECAR_PATH_TOKEN].sort());
    expect(doc.servers[0]?.url).toBe(`http://127.0.0.1:${SIDECAR_DEFAULT_PORT}`);
  });

  it("requires the guard header on the token endpoint", async () => {
    const params = (await load()).paths[SIDECAR_PATH_TOKEN]?.get.parameters ?? [];
    expect(params.find((p) => p.in === "header")).toMatchObject({ name: SIDECAR_GUARD_HEADER, required: true });
  });

  it("lists the OAuth error codes and only real sidecar error codes", async () => {
    const error = (await load()).components.schemas.Error.properties;
    expect(error.error.enum).toEqual([...OAUTH_ERROR_CODES]);
    for (const code of error.tessera_sidecar_error.enum) expect(SIDECAR_ERROR_CODES).toContain(code);
  });
});
