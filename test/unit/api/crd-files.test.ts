// Each CRD file parses, teaches its API through descriptions, and bounds what CEL must iterate over.
import { describe, expect, it } from "vitest";
import { CONDITION_ACCEPTED, CONDITION_READY } from "../../../api/constants.ts";
import { CLUSTER_TOKEN_POLICY_CRD_PATH, loadCrd, storedSchema, TOKEN_POLICY_CRD_PATH, walkSchema } from "./crd-files.ts";

const crds = [
  { file: "tessera.dev_tokenpolicies.yaml", crd: loadCrd(TOKEN_POLICY_CRD_PATH), shortName: "tp" },
  { file: "tessera.dev_clustertokenpolicies.yaml", crd: loadCrd(CLUSTER_TOKEN_POLICY_CRD_PATH), shortName: "ctp" },
];

/** Nodes the apiserver forbids describing (metadata) and list/map element nodes (described by their field). */
function mustDescribe(path: string): boolean {
  return path !== "metadata" && !path.endsWith("[]") && !path.endsWith("{}");
}

describe.each(crds)("crds/$file", ({ crd, shortName }) => {
  it("is an apiextensions.k8s.io/v1 CustomResourceDefinition with one served and stored version", () => {
    expect(crd.apiVersion).toBe("apiextensions.k8s.io/v1");
    expect(crd.kind).toBe("CustomResourceDefinition");
    expect(crd.spec.versions.filter((v) => v.served && v.storage)).toHaveLength(1);
  });

  it("describes every field, so kubectl explain teaches the API", () => {
    const undescribed = [...walkSchema(storedSchema(crd))]
      .filter(({ path, schema }) => mustDescribe(path) && (schema.description ?? "").trim() === "")
      .map(({ path }) => path || "(root)");
    expect(undescribed).toEqual([]);
  });

  it("bounds every list and string so the apiserver can estimate the cost of its CEL rules", () => {
    const unbounded = [...walkSchema(storedSchema(crd))]
      .filter(({ path }) => path.startsWith("spec"))
      .filter(({ schema }) =>
        schema.type === "array"
          ? schema.maxItems === undefined
          : schema.type === "string" && schema.maxLength === undefined && schema.enum === undefined,
      )
      .map(({ path }) => path);
    expect(unbounded).toEqual([]);
  });

  it("gives every CEL validation rule a message a person can act on", () => {
    const rules = [...walkSchema(storedSchema(crd))].flatMap(({ path, schema }) =>
      (schema["x-kubernetes-validations"] ?? []).map((rule) => ({ path, ...rule })),
    );
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule.message ?? "", `${rule.path}: ${rule.rule}`).toMatch(/^[a-z].{20,}/);
    }
  });

  it("keys lists of named items by name, so names are unique", () => {
    const spec = storedSchema(crd).properties?.["spec"]?.properties ?? {};
    for (const field of ["claims", "conditions"]) {
      expect(spec[field]?.["x-kubernetes-list-type"], field).toBe("map");
      expect(spec[field]?.["x-kubernetes-list-map-keys"], field).toEqual(["name"]);
    }
  });

  it("has a status subresource whose conditions have the metav1.Condition shape", () => {
    const version = crd.spec.versions[0];
    expect(version?.subresources?.status).toEqual({});
    const condition = storedSchema(crd).properties?.["status"]?.properties?.["conditions"];
    expect(condition?.["x-kubernetes-list-map-keys"]).toEqual(["type"]);
    expect([...(condition?.items?.required ?? [])].sort()).toEqual(["lastTransitionTime", "message", "reason", "status", "type"]);
  });

  it("prints owner, audiences, the Accepted and Ready conditions and age, each column described", () => {
    const columns = crd.spec.versions[0]?.additionalPrinterColumns ?? [];
    expect(columns.map((c) => c.name)).toEqual(expect.arrayContaining(["Owner", "Audiences", "Accepted", "Ready", "Age"]));
    expect(columns.find((c) => c.name === "Ready")?.jsonPath).toBe(`.status.conditions[?(@.type=="${CONDITION_READY}")].status`);
    expect(columns.find((c) => c.name === "Accepted")?.jsonPath).toBe(
      `.status.conditions[?(@.type=="${CONDITION_ACCEPTED}")].status`,
    );
    expect(columns.filter((c) => (c.description ?? "") === "").map((c) => c.name)).toEqual([]);
  });

  it("has its short name and the tessera category", () => {
    expect(crd.spec.names.shortNames).toEqual([shortName]);
    expect(crd.spec.names.categories).toEqual(["tessera"]);
  });
});
