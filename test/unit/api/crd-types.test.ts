// The TypeScript types in api/token-policy.ts and the CRD schemas in crds/ must describe the same resources.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  API_GROUP,
  API_VERSION,
  KIND_CLUSTER_TOKEN_POLICY,
  KIND_TOKEN_AUDIENCE,
  KIND_TOKEN_POLICY,
  RESOURCE_CLUSTER_TOKEN_POLICIES,
  RESOURCE_TOKEN_AUDIENCES,
  RESOURCE_TOKEN_POLICIES,
} from "../../../api/constants.ts";
import {
  CLUSTER_TOKEN_POLICY_CRD_PATH,
  loadCrd,
  storedSchema,
  TOKEN_AUDIENCE_CRD_PATH,
  TOKEN_AUDIENCE_TS_PATH,
  TOKEN_POLICY_CRD_PATH,
  TOKEN_POLICY_TS_PATH,
  type JsonSchema,
} from "./crd-files.ts";
import { findDrift } from "./drift.ts";
import { programFor, shapeOfExport, shapeOfSchema } from "./shapes.ts";

const program = programFor(TOKEN_POLICY_TS_PATH);
const tokenPolicyCrd = loadCrd(TOKEN_POLICY_CRD_PATH);
const clusterTokenPolicyCrd = loadCrd(CLUSTER_TOKEN_POLICY_CRD_PATH);
const tokenAudienceCrd = loadCrd(TOKEN_AUDIENCE_CRD_PATH);

const kinds = [
  { type: "TokenPolicy", crd: tokenPolicyCrd },
  { type: "ClusterTokenPolicy", crd: clusterTokenPolicyCrd },
] as const;

/** A deep, mutable copy of the TokenPolicy schema for drifting on purpose. */
function mutableSchema(): Record<string, unknown> {
  return structuredClone(storedSchema(tokenPolicyCrd)) as unknown as Record<string, unknown>;
}

/** Follows `properties` along a dotted path (`[]` steps into items) and returns the mutable node. */
function node(schema: Record<string, unknown>, path: string): Record<string, unknown> {
  let current = schema;
  for (const step of path.split(".")) {
    const items = step.endsWith("[]");
    const name = items ? step.slice(0, -2) : step;
    const properties = current["properties"] as Record<string, Record<string, unknown>>;
    const next = properties[name];
    if (next === undefined) throw new Error(`no ${name} in schema at ${path}`);
    current = items ? (next["items"] as Record<string, unknown>) : next;
  }
  return current;
}

describe("TokenPolicy, ClusterTokenPolicy and TokenAudience types agree with their CRDs", () => {
  it.each(kinds)("$type: every field, required-ness and primitive type agree", ({ type, crd }) => {
    const drift = findDrift(shapeOfExport(program, TOKEN_POLICY_TS_PATH, type), shapeOfSchema(storedSchema(crd)));
    expect(drift).toEqual([]);
  });

  it("TokenAudience: every field, required-ness and primitive type agree", () => {
    const audienceProgram = programFor(TOKEN_AUDIENCE_TS_PATH);
    const drift = findDrift(shapeOfExport(audienceProgram, TOKEN_AUDIENCE_TS_PATH, "TokenAudience"), shapeOfSchema(storedSchema(tokenAudienceCrd)));
    expect(drift).toEqual([]);
  });

  it.each([
    { crd: tokenPolicyCrd, kind: KIND_TOKEN_POLICY, plural: RESOURCE_TOKEN_POLICIES, scope: "Namespaced" },
    { crd: clusterTokenPolicyCrd, kind: KIND_CLUSTER_TOKEN_POLICY, plural: RESOURCE_CLUSTER_TOKEN_POLICIES, scope: "Cluster" },
    { crd: tokenAudienceCrd, kind: KIND_TOKEN_AUDIENCE, plural: RESOURCE_TOKEN_AUDIENCES, scope: "Namespaced" },
  ])("$kind: group, version, names and scope are the wire names of api/constants.ts", ({ crd, kind, plural, scope }) => {
    expect(crd.metadata.name).toBe(`${plural}.${API_GROUP}`);
    expect(crd.spec.group).toBe(API_GROUP);
    expect(crd.spec.scope).toBe(scope);
    expect(crd.spec.names.kind).toBe(kind);
    expect(crd.spec.names.plural).toBe(plural);
    expect(crd.spec.versions.map((v) => [v.name, v.served, v.storage])).toEqual([[API_VERSION, true, true]]);
  });
});

describe("the drift check fails on a real drift", () => {
  const typescript = shapeOfExport(program, TOKEN_POLICY_TS_PATH, "TokenPolicy");

  it.each<{ name: string; drift: (schema: Record<string, unknown>) => void; expected: string }>([
    {
      name: "a field removed from the CRD is reported",
      drift: (s) => {
        delete (node(s, "spec")["properties"] as Record<string, unknown>)["revokeBefore"];
      },
      expected: "spec.revokeBefore: in the TypeScript type but not in the CRD schema",
    },
    {
      name: "a field added only to the CRD is reported",
      drift: (s) => {
        (node(s, "spec.owner")["properties"] as Record<string, unknown>)["pager"] = { type: "string", description: "x" };
      },
      expected: "spec.owner.pager: in the CRD schema but not in the TypeScript type",
    },
    {
      name: "a required field made optional in the CRD is reported",
      drift: (s) => {
        node(s, "spec.conditions[]")["required"] = ["name", "expression"];
      },
      expected: "spec.conditions[].message: required in TypeScript but optional in the CRD schema (not in required)",
    },
    {
      name: "an optional field made required in the CRD is reported",
      drift: (s) => {
        node(s, "spec")["required"] = ["owner", "subjects", "audiences", "ttlSeconds"];
      },
      expected: "spec.ttlSeconds: optional in TypeScript but required in the CRD schema",
    },
    {
      name: "an integer turned into a string is reported",
      drift: (s) => {
        node(s, "spec.delegation.maxChainLength")["type"] = "string";
      },
      expected: "spec.delegation.maxChainLength: TypeScript type is number but the CRD schema says string",
    },
    {
      name: "a list turned into a single value is reported",
      drift: (s) => {
        const audiences = node(s, "spec.audiences");
        audiences["type"] = "string";
        delete audiences["items"];
      },
      expected: "spec.audiences: TypeScript type is array but the CRD schema says string",
    },
    {
      name: "a map turned into an object with fixed properties is reported",
      drift: (s) => {
        const labels = node(s, "spec.subjects.podSelector.matchLabels");
        delete labels["additionalProperties"];
        labels["properties"] = { app: { type: "string", description: "x" } };
      },
      expected: "spec.subjects.podSelector.matchLabels: TypeScript type is map but the CRD schema says object",
    },
    {
      name: "an enum value the TypeScript union lacks is reported",
      drift: (s) => {
        node(s, "status.conditions[].status")["enum"] = ["True", "False", "Unknown", "Maybe"];
      },
      expected: "status.conditions[].status: TypeScript allows False|True|Unknown but the CRD enum is False|Maybe|True|Unknown",
    },
  ])("$name", ({ drift, expected }) => {
    const schema = mutableSchema();
    drift(schema);
    expect(findDrift(typescript, shapeOfSchema(schema as JsonSchema))).toContain(expected);
  });

  it.each([
    {
      name: "a field added only to the TypeScript type is reported",
      from: "  readonly contact?: string;\n}",
      to: "  readonly contact?: string;\n  readonly pager?: string;\n}",
      expected: "spec.owner.pager: in the TypeScript type but not in the CRD schema",
    },
    {
      name: "a TypeScript field made optional is reported",
      from: "  readonly team: string;",
      to: "  readonly team?: string;",
      expected: "spec.owner.team: optional in TypeScript but required in the CRD schema",
    },
    {
      name: "a TypeScript number turned into a boolean is reported",
      from: "  readonly priority?: number;",
      to: "  readonly priority?: boolean;",
      expected: "spec.priority: TypeScript type is boolean but the CRD schema says number",
    },
  ])("$name (drifted in-memory copy of api/token-policy.ts)", ({ from, to, expected }) => {
    const original = readFileSync(TOKEN_POLICY_TS_PATH, "utf8");
    expect(original).toContain(from);
    const drifted = programFor(TOKEN_POLICY_TS_PATH, original.replace(from, to));
    const shape = shapeOfExport(drifted, TOKEN_POLICY_TS_PATH, "TokenPolicy");
    expect(findDrift(shape, shapeOfSchema(storedSchema(tokenPolicyCrd)))).toContain(expected);
  });
});
