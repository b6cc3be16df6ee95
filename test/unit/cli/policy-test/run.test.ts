// Running a case: the issuer's engine decides, and each difference from the expectation is named with the reason.
import { describe, expect, it } from "vitest";
import { snapshotOf, compileSnapshot } from "../../../../controller/src/cli/manifests/snapshot.ts";
import { compare, containsClaim, runCase, type DecisionSummary } from "../../../../controller/src/cli/policy-test/run.ts";
import type { Expectation, TestCase } from "../../../../controller/src/cli/policy-test/suite.ts";

const NOW = new Date("2026-01-01T00:00:00Z");

const manifests = [
  { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop", labels: { tenant: "acme" } } },
  {
    apiVersion: "tessera.dev/v1alpha1",
    kind: "ClusterTokenPolicy",
    metadata: { name: "owners" },
    spec: { owner: { team: "platform" }, audienceOwnership: [{ audiences: ["https://ledger.internal"], ownedBy: "Open" }] },
  },
  {
    apiVersion: "tessera.dev/v1alpha1",
    kind: "TokenPolicy",
    metadata: { name: "api", namespace: "shop" },
    spec: {
      owner: { team: "shop" },
      subjects: { serviceAccounts: ["api"], podSelector: { matchLabels: { app: "api" } } },
      audiences: ["https://ledger.internal"],
      scopes: { allowed: ["ledger.read", "ledger.write"], default: ["ledger.read"] },
      ttlSeconds: 600,
      claims: [{ name: "tenant", expression: 'namespace.labels["tenant"]' }],
      conditions: [{ name: "production", expression: 'cluster.environment == "production"', message: "production only" }],
    },
  },
].map((value, index) => ({ file: "m.yaml", index, value }));

const { snapshot } = snapshotOf(manifests);
const engine = { set: compileSnapshot(snapshot).set, snapshot };

function caseOf(expect: Expectation, subject: Partial<TestCase["subject"]> = {}, scopes: string[] = []): TestCase {
  return {
    name: "case",
    subject: { serviceAccount: { namespace: "shop", name: "api" }, pod: { labels: { app: "api" } }, cluster: { name: "c", environment: "production" }, actors: [], ...subject },
    request: { audiences: ["https://ledger.internal"], scopes },
    expect,
  };
}

describe("runCase", () => {
  it("passes when the decision is what the case expects, reading namespace labels from the manifests", () => {
    const result = runCase(caseOf({ outcome: "allowed", scopes: ["ledger.read"], ttlSeconds: 600, claims: { tenant: "acme" }, policy: "TokenPolicy/shop/api" }), engine, NOW);
    expect(result).toMatchObject({ passed: true, failures: [] });
  });

  it("lets a case replace the namespace's labels", () => {
    const result = runCase(caseOf({ outcome: "allowed", claims: { tenant: "globex" } }, { namespaceLabels: { tenant: "globex" } }), engine, NOW);
    expect(result.failures).toEqual([]);
  });

  it("fails with the decision's reason and message when a token was expected", () => {
    const result = runCase(caseOf({ outcome: "allowed" }, { cluster: { name: "c", environment: "staging" } }), engine, NOW);
    expect(result.passed).toBe(false);
    expect(result.failures).toEqual([expect.stringMatching(/^expected allowed, got denied: ConditionFailed by caller: .*production only/)]);
  });

  it("fails naming what was granted when a denial was expected", () => {
    const result = runCase(caseOf({ outcome: "denied", reason: "ScopeNotAllowed" }, {}, ["ledger.write"]), engine, NOW);
    expect(result.failures).toEqual(["expected denied (ScopeNotAllowed), got allowed under TokenPolicy/shop/api with scopes [ledger.write], ttl 600s"]);
  });

  it("decides with the pod, so a pod the selector does not pick is denied", () => {
    const result = runCase(caseOf({ outcome: "denied", reason: "NoMatchingPolicy", deniedBy: "caller" }, { pod: { labels: { app: "web" } } }), engine, NOW);
    expect(result.passed).toBe(true);
  });
});

describe("compare", () => {
  const allowed: DecisionSummary = {
    allowed: true,
    policy: "TokenPolicy/shop/api",
    audiences: ["https://ledger.internal"],
    scopes: ["ledger.read", "ledger.write"],
    ttlSeconds: 600,
    claims: { tenant: "acme", act: { sub: "planner", iss: "https://k8s" } },
  };
  const denied: DecisionSummary = { allowed: false, reason: "AudienceOwnerDenied", deniedBy: "owner", message: "ask #payments", policy: "TokenPolicy/shop/api" };

  it.each<{ name: string; expected: Expectation; got: DecisionSummary; failures: string[] }>([
    { name: "scopes in another order match", expected: { outcome: "allowed", scopes: ["ledger.write", "ledger.read"] }, got: allowed, failures: [] },
    { name: "a missing scope is named", expected: { outcome: "allowed", scopes: ["ledger.read"] }, got: allowed, failures: ["scopes: expected [ledger.read], got [ledger.read ledger.write]"] },
    { name: "another TTL is named", expected: { outcome: "allowed", ttlSeconds: 300 }, got: allowed, failures: ["ttlSeconds: expected 300, got 600"] },
    { name: "a claim of another value is named", expected: { outcome: "allowed", claims: { tenant: "globex" } }, got: allowed, failures: ['claim tenant: expected "globex", got "acme"'] },
    { name: "a claim the token lacks is named", expected: { outcome: "allowed", claims: { user: "alice" } }, got: allowed, failures: ["claim user: expected \"alice\", got no such claim"] },
    { name: "part of an object claim matches", expected: { outcome: "allowed", claims: { act: { sub: "planner" } } }, got: allowed, failures: [] },
    { name: "a bearer token where binding was expected", expected: { outcome: "allowed", dpopRequired: true }, got: allowed, failures: ["dpopRequired: expected a DPoP-bound token, got a bearer token"] },
    { name: "the expected denial matches", expected: { outcome: "denied", reason: "AudienceOwnerDenied", deniedBy: "owner", messageIncludes: "#payments" }, got: denied, failures: [] },
    {
      name: "another reason is named with the decision's message",
      expected: { outcome: "denied", reason: "ScopeNotAllowed" },
      got: denied,
      failures: ["reason: expected ScopeNotAllowed, got AudienceOwnerDenied by owner: ask #payments"],
    },
    {
      name: "another party is named",
      expected: { outcome: "denied", reason: "AudienceOwnerDenied", deniedBy: "caller" },
      got: denied,
      failures: ["deniedBy: expected caller, got AudienceOwnerDenied by owner: ask #payments"],
    },
    {
      name: "a message without the expected words is quoted",
      expected: { outcome: "denied", reason: "AudienceOwnerDenied", messageIncludes: "refund" },
      got: denied,
      failures: ["message: expected it to include 'refund', got 'ask #payments'"],
    },
  ])("$name", ({ expected, got, failures }) => {
    expect(compare(expected, got)).toEqual(failures);
  });
});

describe("containsClaim", () => {
  it.each([
    { name: "equal scalars", expected: "a", actual: "a", result: true },
    { name: "lists must be equal, not contained", expected: ["a"], actual: ["a", "b"], result: false },
    { name: "nested objects match partially", expected: { act: { sub: "x" } }, actual: { act: { sub: "x", iss: "y" } }, result: true },
    { name: "a missing member fails", expected: { sub: "x" }, actual: {}, result: false },
    { name: "an object does not match a string", expected: { sub: "x" }, actual: "x", result: false },
  ])("$name", ({ expected, actual, result }) => {
    expect(containsClaim(expected, actual)).toBe(result);
  });
});
