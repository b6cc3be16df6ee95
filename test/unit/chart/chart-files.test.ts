// The chart's static files: CRD copies equal crds/, every values.yaml key is commented, and the schema knows exactly those keys.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isMap, isScalar, parseDocument, type YAMLMap } from "yaml";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const CHART = join(ROOT, "charts", "tessera");

interface SchemaNode {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: boolean | SchemaNode;
}

/** Every key path of a YAML map, with whether a comment stands right above it (on the key or, for a map's first key, on the map). */
function keysOf(map: YAMLMap, prefix: string, out: { path: string; commented: boolean }[]): typeof out {
  map.items.forEach((pair, index) => {
    if (!isScalar(pair.key)) return;
    const path = `${prefix}${String(pair.key.value)}`;
    const own = (pair.key.commentBefore ?? "").trim() !== "";
    const onMap = index === 0 && (map.commentBefore ?? "").trim() !== "";
    out.push({ path, commented: own || onMap });
    if (isMap(pair.value) && pair.value.items.length > 0) keysOf(pair.value, `${path}.`, out);
  });
  return out;
}

/** Key paths the schema declares under `properties`, and which of them have declared keys of their own. */
function schemaKeys(node: SchemaNode, prefix: string, out: { keys: string[]; structured: Set<string> }): typeof out {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    out.keys.push(`${prefix}${key}`);
    if (child.properties !== undefined) {
      out.structured.add(`${prefix}${key}`);
      schemaKeys(child, `${prefix}${key}.`, out);
    }
  }
  return out;
}

const values = parseDocument(readFileSync(join(CHART, "values.yaml"), "utf8"));
const schema = JSON.parse(readFileSync(join(CHART, "values.schema.json"), "utf8")) as SchemaNode;

describe("charts/tessera", () => {
  it.each(readdirSync(join(ROOT, "crds")))("carries crds/%s byte for byte in files/crds", (file) => {
    expect(readFileSync(join(CHART, "files", "crds", file), "utf8")).toBe(readFileSync(join(ROOT, "crds", file), "utf8"));
  });

  it("carries no CRD that crds/ does not have", () => {
    expect(readdirSync(join(CHART, "files", "crds")).sort()).toEqual(readdirSync(join(ROOT, "crds")).sort());
  });

  it("comments every key of values.yaml", () => {
    const root = values.contents;
    if (!isMap(root)) throw new Error("values.yaml is not a map");
    const uncommented = keysOf(root, "", []).filter((k) => !k.commented).map((k) => k.path);
    expect(uncommented).toEqual([]);
  });

  it("declares in values.schema.json exactly the keys values.yaml has", () => {
    const root = values.contents;
    if (!isMap(root)) throw new Error("values.yaml is not a map");
    const declared = schemaKeys(schema, "", { keys: [], structured: new Set() });
    // Keys inside free-form maps (resources.requests, podLabels) are the user's, not the schema's.
    const parentOf = (path: string): string => path.slice(0, Math.max(0, path.lastIndexOf(".")));
    const inValues = keysOf(root, "", []).map((k) => k.path).filter((p) => parentOf(p) === "" || declared.structured.has(parentOf(p))).sort();
    const inSchema = declared.keys.filter((k) => k !== "global").sort();
    expect(inSchema).toEqual(inValues);
  });

  it("refuses unknown keys at every level of the schema", () => {
    const open: string[] = [];
    const walk = (node: SchemaNode, path: string): void => {
      if (node.properties === undefined) return;
      if (node.additionalProperties !== false) open.push(path || "(root)");
      for (const [key, child] of Object.entries(node.properties)) walk(child, path === "" ? key : `${path}.${key}`);
    };
    walk(schema, "");
    expect(open).toEqual([]);
  });
});
