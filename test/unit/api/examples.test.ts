// Every example policy passes the CRD schema and its rules; every invalid fixture is refused with its stated message.
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { API_GROUP_VERSION, KIND_CLUSTER_TOKEN_POLICY, KIND_TOKEN_AUDIENCE, KIND_TOKEN_POLICY } from "../../../api/constants.ts";
import {
  CLUSTER_TOKEN_POLICY_CRD_PATH,
  loadCrd,
  storedSchema,
  TOKEN_AUDIENCE_CRD_PATH,
  TOKEN_POLICY_CRD_PATH,
  type JsonSchema,
} from "./crd-files.ts";
import { EXAMPLE_FOLDERS, EXAMPLES_DIR, invalidFixtures, loadManifests, yamlFiles, type Manifest } from "./manifests.ts";
import { validateAgainstSchema } from "./schema-validate.ts";

const schemas: ReadonlyMap<string, JsonSchema> = new Map([
  [KIND_TOKEN_POLICY, storedSchema(loadCrd(TOKEN_POLICY_CRD_PATH))],
  [KIND_CLUSTER_TOKEN_POLICY, storedSchema(loadCrd(CLUSTER_TOKEN_POLICY_CRD_PATH))],
  [KIND_TOKEN_AUDIENCE, storedSchema(loadCrd(TOKEN_AUDIENCE_CRD_PATH))],
]);

function schemaFor(manifest: Manifest): JsonSchema {
  const schema = schemas.get(manifest.kind);
  if (schema === undefined) throw new Error(`${manifest.kind} is not a Tessera policy kind`);
  return schema;
}

const folders = EXAMPLE_FOLDERS.map((folder) => {
  const dir = join(EXAMPLES_DIR, folder);
  const located = yamlFiles(dir).flatMap(loadManifests);
  return { folder, dir, located, manifests: located.map((l) => l.manifest) };
});
const policies = folders.flatMap(({ folder, located }) =>
  located
    .filter(({ manifest }) => manifest.apiVersion === API_GROUP_VERSION)
    .map(({ file, manifest }) => ({ folder, manifest, name: `${basename(file)}: ${manifest.kind} ${manifest.metadata.name}` })),
);

/** Does a namespace with these labels match a selector's matchLabels? (The apiserver adds kubernetes.io/metadata.name.) */
function namespaceMatches(namespace: Manifest, selector: unknown): boolean {
  const matchLabels = (selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels ?? {};
  const labels: Readonly<Record<string, string>> = { ...namespace.metadata.labels, "kubernetes.io/metadata.name": namespace.metadata.name };
  return Object.entries(matchLabels).every(([key, value]) => labels[key] === value);
}

describe("examples/", () => {
  it.each(folders)("$folder has a README.md and at least one policy", ({ dir, manifests }) => {
    expect(existsSync(join(dir, "README.md"))).toBe(true);
    expect(manifests.filter((m) => m.apiVersion === API_GROUP_VERSION).length).toBeGreaterThan(0);
  });

  it.each(policies)("$folder/$name passes the CRD schema and its validation rules", ({ manifest }) => {
    expect(validateAgainstSchema(manifest, schemaFor(manifest))).toEqual([]);
  });

  it.each(folders)("$folder ships a Namespace manifest for every namespace its objects live in", ({ manifests }) => {
    const declared = new Set(manifests.filter((m) => m.kind === "Namespace").map((m) => m.metadata.name));
    const used = manifests.flatMap((m) => (m.metadata.namespace === undefined ? [] : [m.metadata.namespace]));
    expect(used.filter((ns) => !declared.has(ns))).toEqual([]);
  });

  it.each(policies.filter(({ manifest }) => manifest.kind === KIND_CLUSTER_TOKEN_POLICY))(
    "$folder/$name selects a namespace of its folder with each of its namespace selectors",
    ({ folder, manifest }) => {
      const namespaces = folders.find((f) => f.folder === folder)?.manifests.filter((m) => m.kind === "Namespace") ?? [];
      const spec = manifest["spec"] as { subjects?: { namespaceSelector?: unknown }; guardrails?: { namespaceSelector?: unknown } };
      for (const selector of [spec.subjects?.namespaceSelector, spec.guardrails?.namespaceSelector]) {
        if (selector === undefined) continue;
        expect(namespaces.some((ns) => namespaceMatches(ns, selector)), JSON.stringify(selector)).toBe(true);
      }
    },
  );
});

describe("test/fixtures/policies/invalid/", () => {
  const fixtures = invalidFixtures().map((fixture) => ({ ...fixture, name: basename(fixture.file) }));

  it("holds at least one fixture per kind", () => {
    expect(new Set(fixtures.map((f) => f.manifest.kind))).toEqual(new Set([KIND_TOKEN_POLICY, KIND_CLUSTER_TOKEN_POLICY]));
  });

  it.each(fixtures)("$name is refused at $path with the message its comment states", ({ manifest, path, message }) => {
    expect(validateAgainstSchema(manifest, schemaFor(manifest))).toContainEqual({ path, message });
  });
});

describe("the offline schema check catches structural mistakes too", () => {
  const valid = policies.find(({ manifest }) => manifest.metadata.name === "checkout-to-payments")?.manifest;

  it.each<{ name: string; change: (spec: Record<string, unknown>) => void; path: string }>([
    { name: "an unknown field", change: (s) => { s["namespaceSelector"] = {}; }, path: "spec.namespaceSelector" },
    { name: "a missing owner", change: (s) => { delete s["owner"]; }, path: "spec.owner" },
    { name: "an audience with a comma", change: (s) => { s["audiences"] = ["a,b"]; }, path: "spec.audiences[0]" },
    { name: "a revokeBefore that is not a date-time", change: (s) => { s["revokeBefore"] = "yesterday"; }, path: "spec.revokeBefore" },
    {
      name: "two claims with the same name",
      change: (s) => { s["claims"] = [{ name: "tenant", expression: "1" }, { name: "tenant", expression: "2" }]; },
      path: "spec.claims[1]",
    },
  ])("reports $name at $path", ({ change, path }) => {
    expect(valid).toBeDefined();
    const copy = structuredClone(valid) as unknown as { spec: Record<string, unknown> };
    change(copy.spec);
    expect(validateAgainstSchema(copy, schemaFor(valid as Manifest)).map((v) => v.path)).toContain(path);
  });
});
