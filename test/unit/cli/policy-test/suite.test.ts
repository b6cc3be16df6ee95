// The TokenPolicyTest format: a valid suite parses into typed cases; every mistake is named by its field path.
import { describe, expect, it } from "vitest";
import { parseSuite, type SuiteParse } from "../../../../controller/src/cli/policy-test/suite.ts";

const valid = {
  apiVersion: "tessera.dev/v1alpha1",
  kind: "TokenPolicyTest",
  metadata: { name: "shop" },
  spec: {
    cluster: { name: "prod-eu", environment: "production" },
    cases: [
      {
        name: "api reads the ledger",
        subject: {
          serviceAccount: { namespace: "shop", name: "api" },
          pod: { labels: { app: "api" }, owner: { apiVersion: "batch/v1", kind: "Job", name: "j" } },
          actors: [{ serviceAccount: { namespace: "agents", name: "planner" } }, { subject: "user-1", issuer: "https://idp" }],
        },
        request: { audiences: ["https://ledger.internal"], scopes: ["ledger.read"] },
        expect: { allowed: { scopes: ["ledger.read"], ttlSeconds: 300, claims: { tenant: "acme" }, dpopRequired: false } },
      },
      {
        name: "api may not write",
        subject: { serviceAccount: { namespace: "shop", name: "api" }, cluster: { name: "dev" } },
        request: { audiences: ["https://ledger.internal"], scopes: ["ledger.write"] },
        expect: { denied: { reason: "ScopeNotAllowed", deniedBy: "caller", messageIncludes: "ledger.write" } },
      },
    ],
  },
};

function parse(value: unknown): SuiteParse {
  return parseSuite({ file: "suite.yaml", index: 0, value });
}

/** A copy of the valid suite with one change made to it. */
function changed(change: (suite: { spec: { cases: Record<string, unknown>[] } & Record<string, unknown> } & Record<string, unknown>) => void): unknown {
  const copy = structuredClone(valid) as unknown as Parameters<typeof change>[0];
  change(copy);
  return copy;
}

function errorsOf(value: unknown): readonly string[] {
  const parsed = parse(value);
  return parsed.ok ? [] : parsed.errors;
}

describe("parseSuite", () => {
  it("reads a valid suite into cases with their subject, request and expectation", () => {
    const parsed = parse(valid);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const [first, second] = parsed.suite.cases;
    expect(first?.subject.actors).toEqual([{ serviceAccount: { namespace: "agents", name: "planner" } }, { subject: "user-1", issuer: "https://idp" }]);
    expect(first?.subject.cluster).toEqual({ name: "prod-eu", environment: "production" });
    expect(first?.expect).toEqual({ outcome: "allowed", scopes: ["ledger.read"], ttlSeconds: 300, claims: { tenant: "acme" }, dpopRequired: false });
    expect(second?.subject.cluster).toEqual({ name: "dev", environment: "" });
    expect(second?.expect).toEqual({ outcome: "denied", reason: "ScopeNotAllowed", deniedBy: "caller", messageIncludes: "ledger.write" });
    expect(second?.request.scopes).toEqual(["ledger.write"]);
  });

  it.each<{ name: string; change: Parameters<typeof changed>[0]; error: string }>([
    {
      name: "an unknown field in a case is named with the fields allowed",
      change: (s) => { s.spec.cases[0] = { ...s.spec.cases[0], expected: {} }; },
      error: "spec.cases[0].expected: unknown field (expected one of name, description, subject, request, expect)",
    },
    {
      name: "a case without an expectation",
      change: (s) => { delete s.spec.cases[0]?.["expect"]; },
      error: "spec.cases[0].expect: required",
    },
    {
      name: "an expectation that is both allowed and denied",
      change: (s) => { s.spec.cases[0] = { ...s.spec.cases[0], expect: { allowed: {}, denied: { reason: "NoMatchingPolicy" } } }; },
      error: "spec.cases[0].expect: set exactly one of allowed and denied (what the decision must be)",
    },
    {
      name: "an empty expectation",
      change: (s) => { s.spec.cases[0] = { ...s.spec.cases[0], expect: {} }; },
      error: "spec.cases[0].expect: set exactly one of allowed and denied (what the decision must be)",
    },
    {
      name: "a denial without a reason",
      change: (s) => { s.spec.cases[1] = { ...s.spec.cases[1], expect: { denied: { deniedBy: "owner" } } }; },
      error: "spec.cases[1].expect.denied.reason: required",
    },
    {
      name: "a reason the engine never gives",
      change: (s) => { s.spec.cases[1] = { ...s.spec.cases[1], expect: { denied: { reason: "Forbidden" } } }; },
      error: "spec.cases[1].expect.denied.reason: 'Forbidden' is not a denial reason",
    },
    {
      name: "a party that is not one of the three",
      change: (s) => { s.spec.cases[1] = { ...s.spec.cases[1], expect: { denied: { reason: "ScopeNotAllowed", deniedBy: "admin" } } }; },
      error: "spec.cases[1].expect.denied.deniedBy: must be one of caller, owner, operator",
    },
    {
      name: "two cases with one name",
      change: (s) => { s.spec.cases[1] = { ...s.spec.cases[1], name: "api reads the ledger" }; },
      error: "spec.cases[1].name: 'api reads the ledger' names an earlier case too",
    },
    {
      name: "a request without audiences",
      change: (s) => { s.spec.cases[0] = { ...s.spec.cases[0], request: { audiences: [] } }; },
      error: "spec.cases[0].request.audiences: must name at least one audience",
    },
    {
      name: "a pod label that is not a string",
      change: (s) => { s.spec.cases[0] = { ...s.spec.cases[0], subject: { serviceAccount: { namespace: "a", name: "b" }, pod: { labels: { ready: true } } } }; },
      error: "spec.cases[0].subject.pod.labels.ready: must be a string (quote numbers and booleans)",
    },
    {
      name: "an actor with both a service account and a subject",
      change: (s) => {
        s.spec.cases[0] = { ...s.spec.cases[0], subject: { serviceAccount: { namespace: "a", name: "b" }, actors: [{ serviceAccount: { namespace: "x", name: "y" }, subject: "z" }] } };
      },
      error: "spec.cases[0].subject.actors[0]: set exactly one of serviceAccount and subject",
    },
    {
      name: "a subject without a service account",
      change: (s) => { s.spec.cases[0] = { ...s.spec.cases[0], subject: { pod: {} } }; },
      error: "spec.cases[0].subject.serviceAccount: required",
    },
    {
      name: "another apiVersion",
      change: (s) => { s["apiVersion"] = "tessera.dev/v1"; },
      error: "apiVersion: must be tessera.dev/v1alpha1",
    },
    {
      name: "a suite without cases",
      change: (s) => { s.spec.cases = []; },
      error: "spec.cases: must name at least one case",
    },
    {
      name: "an extra manifest of a kind the engine does not read",
      change: (s) => { s.spec["extraManifests"] = [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } }]; },
      error: "spec.extraManifests[0].kind: must be one of TokenPolicy, ClusterTokenPolicy, TokenAudience, Namespace, ServiceAccount",
    },
  ])("refuses $name", ({ change, error }) => {
    expect(errorsOf(changed(change)).join("\n")).toContain(error);
  });

  it("names a document that is not an object", () => {
    expect(errorsOf("cases")).toContain("document: must be an object");
  });

  it("reports every problem of a suite at once, with its name and location", () => {
    const parsed = parse(changed((s) => {
      delete s.spec.cases[0]?.["expect"];
      s.spec.cases[1] = { ...s.spec.cases[1], expect: { denied: { reason: "Nope" } } };
    }));
    expect(parsed).toMatchObject({ ok: false, name: "shop", location: "suite.yaml" });
    expect(parsed.ok ? [] : parsed.errors).toHaveLength(2);
  });
});
