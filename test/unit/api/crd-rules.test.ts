// The CRDs' CEL rules refuse exactly the claim names api/constants.ts reserves, and enforce the TTL bounds.
import { describe, expect, it } from "vitest";
import { CLUSTER_RESERVED_CLAIMS, FORBIDDEN_CLAIM_NAMES, ISSUER_OWNED_CLAIMS, TESSERA_CLAIM_PREFIX } from "../../../api/constants.ts";
import { CLUSTER_TOKEN_POLICY_CRD_PATH, loadCrd, storedSchema, TOKEN_POLICY_CRD_PATH, type JsonSchema } from "./crd-files.ts";
import { validateAgainstSchema } from "./schema-validate.ts";

function claimNameSchema(path: string): JsonSchema {
  const schema = storedSchema(loadCrd(path)).properties?.["spec"]?.properties?.["claims"]?.items?.properties?.["name"];
  if (schema === undefined) throw new Error(`${path}: no spec.claims[].name`);
  return schema;
}

const tokenPolicyClaimName = claimNameSchema(TOKEN_POLICY_CRD_PATH);
const clusterClaimName = claimNameSchema(CLUSTER_TOKEN_POLICY_CRD_PATH);
const ttl = storedSchema(loadCrd(TOKEN_POLICY_CRD_PATH)).properties?.["spec"]?.properties?.["ttlSeconds"] ?? {};

describe("claim names in the CRDs agree with api/constants.ts", () => {
  it.each(ISSUER_OWNED_CLAIMS)("refuses the issuer-owned claim %s in both kinds", (name) => {
    expect(validateAgainstSchema(name, tokenPolicyClaimName)).not.toEqual([]);
    expect(validateAgainstSchema(name, clusterClaimName)).not.toEqual([]);
  });

  it("refuses names under the Tessera prefix in both kinds", () => {
    for (const schema of [tokenPolicyClaimName, clusterClaimName]) {
      expect(validateAgainstSchema(`${TESSERA_CLAIM_PREFIX}tenant`, schema)).toEqual([
        { path: "(root)", message: "claim names under tessera.dev/ are reserved for Tessera's own claims; choose another name" },
      ]);
    }
  });

  it.each(ISSUER_OWNED_CLAIMS.map((name) => name.toUpperCase()))("refuses the issuer-owned claim in another letter case, %s", (name) => {
    expect(validateAgainstSchema(name, tokenPolicyClaimName)).not.toEqual([]);
    expect(validateAgainstSchema(name, clusterClaimName)).not.toEqual([]);
  });

  it.each(FORBIDDEN_CLAIM_NAMES)("refuses %s, which reaches object prototypes, in both kinds", (name) => {
    expect(validateAgainstSchema(name, tokenPolicyClaimName)).not.toEqual([]);
    expect(validateAgainstSchema(name, clusterClaimName)).not.toEqual([]);
  });

  it.each(["Groups", "ROLES", "Realm_Access"])("refuses %s in a TokenPolicy in any letter case", (name) => {
    expect(validateAgainstSchema(name, tokenPolicyClaimName)).not.toEqual([]);
  });

  it.each(CLUSTER_RESERVED_CLAIMS)("refuses %s in a TokenPolicy but lets a ClusterTokenPolicy set it", (name) => {
    expect(validateAgainstSchema(name, tokenPolicyClaimName)).not.toEqual([]);
    expect(validateAgainstSchema(name, clusterClaimName)).toEqual([]);
  });

  it.each(["tenant", "https://example.com/team", "team_id", "org:unit"])("accepts the claim name %s", (name) => {
    expect(validateAgainstSchema(name, tokenPolicyClaimName)).toEqual([]);
  });

  it.each(["", "has space", "-leading-dash"])("refuses the malformed claim name '%s'", (name) => {
    expect(validateAgainstSchema(name, tokenPolicyClaimName)).not.toEqual([]);
  });
});

describe("ttlSeconds", () => {
  it.each([
    { value: 59, ok: false },
    { value: 60, ok: true },
    { value: 86_400, ok: true },
    { value: 86_401, ok: false },
  ])("$value seconds is accepted: $ok", ({ value, ok }) => {
    expect(validateAgainstSchema(value, ttl).length === 0).toBe(ok);
  });
});
