// Reads the example folders and the invalid policy fixtures, with the expectation each fixture states.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { REPO_ROOT } from "./crd-files.ts";

export const EXAMPLES_DIR = join(REPO_ROOT, "examples");
export const INVALID_POLICIES_DIR = join(REPO_ROOT, "test", "fixtures", "policies", "invalid");
/** Example folders that hold manifests; examples/demo is the demo program, not a policy example. */
export const EXAMPLE_FOLDERS = ["agent-delegation", "ci-deploy", "cluster-baseline", "internal-api"] as const;

export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly [field: string]: unknown;
}

/** A manifest and the file it came from. */
export interface LocatedManifest {
  readonly file: string;
  readonly manifest: Manifest;
}

function isManifest(value: unknown): value is Manifest {
  if (typeof value !== "object" || value === null) return false;
  const { apiVersion, kind, metadata } = value as Record<string, unknown>;
  return (
    typeof apiVersion === "string" &&
    typeof kind === "string" &&
    typeof metadata === "object" &&
    metadata !== null &&
    typeof (metadata as Record<string, unknown>)["name"] === "string"
  );
}

/** Every YAML document of one file; throws on a parse error or a document that is not a Kubernetes object. */
export function loadManifests(path: string): LocatedManifest[] {
  return parseAllDocuments(readFileSync(path, "utf8")).map((document, index) => {
    if (document.errors.length > 0) throw new Error(`${path}#${index}: ${document.errors.map((e) => e.message).join("; ")}`);
    const value: unknown = document.toJS();
    if (!isManifest(value)) throw new Error(`${path}#${index}: not a Kubernetes object (apiVersion, kind, metadata.name)`);
    return { file: path, manifest: value };
  });
}

export function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".yaml") || name.endsWith(".yml"))
    .sort()
    .map((name) => join(dir, name));
}

export interface InvalidFixture {
  readonly file: string;
  readonly manifest: Manifest;
  /** Field path the apiserver reports, e.g. spec.ttlSeconds. */
  readonly path: string;
  readonly message: string;
}

/** The invalid fixtures, each with the `# expect: <path>: <message>` line it carries. */
export function invalidFixtures(): InvalidFixture[] {
  return yamlFiles(INVALID_POLICIES_DIR).map((file) => {
    const expectation = /^# expect: (\S+): (.+)$/m.exec(readFileSync(file, "utf8"));
    const [located, ...rest] = loadManifests(file);
    if (expectation?.[1] === undefined || expectation[2] === undefined) throw new Error(`${file}: no "# expect: <path>: <message>" line`);
    if (located === undefined || rest.length > 0) throw new Error(`${file}: expected exactly one document`);
    return { file, manifest: located.manifest, path: expectation[1], message: expectation[2] };
  });
}
