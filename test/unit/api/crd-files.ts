// Loads the CRD manifests from crds/ and narrows them to the parts the API tests read.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const TOKEN_POLICY_CRD_PATH = join(REPO_ROOT, "crds", "tessera.dev_tokenpolicies.yaml");
export const CLUSTER_TOKEN_POLICY_CRD_PATH = join(REPO_ROOT, "crds", "tessera.dev_clustertokenpolicies.yaml");
export const TOKEN_POLICY_TS_PATH = join(REPO_ROOT, "api", "token-policy.ts");
export const TOKEN_AUDIENCE_CRD_PATH = join(REPO_ROOT, "crds", "tessera.dev_tokenaudiences.yaml");
export const TOKEN_AUDIENCE_TS_PATH = join(REPO_ROOT, "api", "token-audience.ts");

/** A CEL validation rule as the apiserver reads it. */
export interface ValidationRule {
  readonly rule: string;
  readonly message?: string;
  readonly messageExpression?: string;
}

/** The subset of a structural OpenAPI v3 schema that Tessera's CRDs use. */
export interface JsonSchema {
  readonly type?: string;
  readonly description?: string;
  readonly format?: string;
  readonly enum?: readonly string[];
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly maxProperties?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly required?: readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly additionalProperties?: JsonSchema;
  readonly items?: JsonSchema;
  readonly "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  readonly "x-kubernetes-list-map-keys"?: readonly string[];
  readonly "x-kubernetes-validations"?: readonly ValidationRule[];
}

export interface PrinterColumn {
  readonly name: string;
  readonly type: string;
  readonly jsonPath: string;
  readonly description?: string;
  readonly priority?: number;
}

export interface CrdVersion {
  readonly name: string;
  readonly served: boolean;
  readonly storage: boolean;
  readonly subresources?: { readonly status?: Readonly<Record<string, never>> };
  readonly additionalPrinterColumns?: readonly PrinterColumn[];
  readonly schema: { readonly openAPIV3Schema: JsonSchema };
}

export interface CustomResourceDefinition {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec: {
    readonly group: string;
    readonly scope: "Namespaced" | "Cluster";
    readonly names: {
      readonly kind: string;
      readonly listKind: string;
      readonly plural: string;
      readonly singular: string;
      readonly shortNames?: readonly string[];
      readonly categories?: readonly string[];
    };
    readonly versions: readonly CrdVersion[];
  };
}

/** Parses a CRD file, which must hold exactly one YAML document without errors. */
export function loadCrd(path: string): CustomResourceDefinition {
  const documents = parseAllDocuments(readFileSync(path, "utf8"));
  if (!Array.isArray(documents)) throw new Error(`${path}: not a YAML stream`);
  const [document, ...rest] = documents;
  if (document === undefined || rest.length > 0) throw new Error(`${path}: expected exactly one YAML document`);
  if (document.errors.length > 0) throw new Error(`${path}: ${document.errors.map((e) => e.message).join("; ")}`);
  // The shape is asserted by the tests that read it; a YAML parser cannot know the CRD's type.
  return document.toJS() as CustomResourceDefinition;
}

/** The single served and stored version's schema. */
export function storedSchema(crd: CustomResourceDefinition): JsonSchema {
  const version = crd.spec.versions.find((v) => v.storage);
  if (version === undefined) throw new Error(`${crd.metadata.name}: no storage version`);
  return version.schema.openAPIV3Schema;
}

/** Every node of a schema with its path, depth first: `spec.claims[].name`, `spec.subjects.podSelector.matchLabels{}`. */
export function* walkSchema(schema: JsonSchema, path = ""): Generator<{ readonly path: string; readonly schema: JsonSchema }> {
  yield { path, schema };
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    yield* walkSchema(child, path === "" ? name : `${path}.${name}`);
  }
  if (schema.items !== undefined) yield* walkSchema(schema.items, `${path}[]`);
  if (schema.additionalProperties !== undefined) yield* walkSchema(schema.additionalProperties, `${path}{}`);
}
