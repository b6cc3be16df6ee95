// The owner's side of a decision: every audience has one owner, whose contract admits callers scope by scope.
import { describe, expect, it } from "vitest";
import type { TokenAudience, TokenAudienceSpec } from "../../../../api/token-audience.ts";
import type { AnyTokenPolicy, AudienceOwnershipRule } from "../../../../api/token-policy.ts";
import { compileContract } from "../../../../controller/src/policy/audience/contract.ts";
import { PolicySet, compilePolicy, decide, type Decision } from "../../../../controller/src/policy/index.ts";
import { NOW, clusterPolicy, compiled, request, subject, tokenPolicy } from "../fixtures.ts";

const ORDERS = "https://orders.internal";
const TEAM_B_LABELS = { team: "billing" };
const LABELS: Readonly<Record<string, Record<string, string>>> = { "team-a": { team: "orders" }, "team-b": TEAM_B_LABELS, payments: {} };

function contract(name: string, namespace: string, spec: Partial<TokenAudienceSpec> = {}): TokenAudience {
  return {
    apiVersion: "tessera.dev/v1alpha1",
    kind: "TokenAudience",
    metadata: { name, namespace, generation: 2 },
    spec: {
      audience: ORDERS,
      owner: { team: "orders", contact: "#orders-oncall" },
      scopes: [
        { name: "orders.read", description: "read orders" },
        { name: "orders.write", description: "create and change orders" },
      ],
      callers: [],
      ...spec,
    },
  };
}

const ownedByTeamA: AudienceOwnershipRule = { audiences: [ORDERS], ownedBy: "Namespaces", namespaceSelector: { matchLabels: { team: "orders" } } };
const owners = (...rules: AudienceOwnershipRule[]) => clusterPolicy("owners", { audienceOwnership: rules });
/** team-b's own TokenPolicy, asking for team-a's audience with whatever scopes it likes. */
const squatter = tokenPolicy("orders-please", {
  subjects: { serviceAccounts: ["billing"] },
  audiences: [ORDERS],
  scopes: { allowed: ["orders.read", "orders.write", "admin"], default: ["orders.read", "orders.write"] },
}, "team-b");
const admitBillingForReads = contract("orders", "team-a", {
  callers: [{ name: "billing-reads", serviceAccounts: [{ namespace: "team-b", name: "billing" }], scopes: ["orders.read"] }],
});

function set(policies: readonly AnyTokenPolicy[], contracts: readonly TokenAudience[] = []): PolicySet {
  return PolicySet.from(
    policies.map(compiled),
    [],
    contracts.map((c) => {
      const result = compileContract(c);
      if (!result.ok) throw new Error(`contract does not compile: ${JSON.stringify(result.errors)}`);
      return result.contract;
    }),
  );
}

function asBilling(policies: PolicySet, scopes: readonly string[] = [], audiences: readonly string[] = [ORDERS]): Decision {
  return decide({
    subject: subject({ namespace: "team-b", serviceAccount: "billing", namespaceLabels: TEAM_B_LABELS }),
    request: request(audiences, scopes),
    policies,
    now: NOW,
    id: "d",
    namespaceLabels: (ns) => LABELS[ns],
  });
}

const outcome = (d: Decision) => (d.allowed ? `allowed ${d.grant.scopes.join(" ")}` : `${d.reason} by ${d.deniedBy}`);

describe("the audience's owner decides who may hold its scopes", () => {
  it.each<[string, PolicySet, readonly string[], string]>([
    ["an audience nobody owns is denied", set([squatter]), [], "AudienceUnowned by owner"],
    ["an owned audience whose owner published no contract is denied", set([squatter, owners(ownedByTeamA)]), [], "AudienceUnowned by owner"],
    ["a contract that admits nobody from team-b denies every scope", set([squatter, owners(ownedByTeamA)], [contract("orders", "team-a")]), ["orders.read"], "AudienceOwnerDenied by owner"],
    ["a contract admitting team-b for orders.read grants orders.read", set([squatter, owners(ownedByTeamA)], [admitBillingForReads]), ["orders.read"], "allowed orders.read"],
    ["the same contract never grants orders.write", set([squatter, owners(ownedByTeamA)], [admitBillingForReads]), ["orders.write"], "AudienceOwnerDenied by owner"],
    ["a scope the contract does not define is never granted", set([squatter, owners(ownedByTeamA)], [admitBillingForReads]), ["admin"], "AudienceOwnerDenied by owner"],
    ["default scopes the contract does not admit are dropped", set([squatter, owners(ownedByTeamA)], [admitBillingForReads]), [], "allowed orders.read"],
    [
      "a contract team-b publishes for team-a's audience claims nothing",
      set([squatter, owners(ownedByTeamA)], [contract("mine-now", "team-b", { callers: [{ name: "me", namespaceSelector: {}, scopes: ["orders.write"] }] })]),
      ["orders.write"],
      "AudienceUnowned by owner",
    ],
    [
      "two contracts in namespaces the rule assigns are a conflict, denied",
      set(
        [squatter, owners({ audiences: [ORDERS], ownedBy: "Namespaces", namespaceSelector: {} })],
        [admitBillingForReads, contract("also-orders", "payments", { callers: [{ name: "all", namespaceSelector: {}, scopes: ["orders.read"] }] })],
      ),
      ["orders.read"],
      "AudienceUnowned by owner",
    ],
    ["an audience an operator opened is granted without a contract", set([squatter, owners({ audiences: [ORDERS], ownedBy: "Open" })]), ["admin"], "allowed admin"],
    ["an audience the cluster owns is never granted by a TokenPolicy", set([squatter, owners({ audiences: [ORDERS], ownedBy: "Cluster" })]), ["orders.read"], "AudienceNotAllowed by operator"],
    [
      "the most specific rule decides: an exact rule beats an open host",
      set([squatter, owners({ hosts: ["orders.internal"], ownedBy: "Open" }, ownedByTeamA)], [contract("orders", "team-a")]),
      ["orders.read"],
      "AudienceOwnerDenied by owner",
    ],
    [
      "rules of equal specificity that disagree own nothing",
      set([squatter, owners({ hosts: ["orders.internal"], ownedBy: "Open" }), clusterPolicy("other", { audienceOwnership: [{ hosts: ["orders.internal"], ownedBy: "Cluster" }] })]),
      ["orders.read"],
      "AudienceUnowned by owner",
    ],
  ])("%s", (_name, policies, scopes, expected) => {
    expect(outcome(asBilling(policies, scopes))).toBe(expected);
  });

  it("names the owner and its contact when the owner says no", () => {
    const d = asBilling(set([squatter, owners(ownedByTeamA)], [admitBillingForReads]), ["orders.write"]);
    expect(d.allowed).toBe(false);
    if (d.allowed) return;
    expect(d.message).toContain("TokenPolicy/team-b/orders-please grants scope 'orders.write'");
    expect(d.message).toContain("TokenAudience team-a/orders (team orders, contact #orders-oncall)");
    expect(d.message).toContain("orders.read only");
    expect(d.audiences).toEqual([
      expect.objectContaining({ audience: ORDERS, ownedBy: "Contract", ownerTeam: "orders", admittedBy: ["billing-reads"], scopesAdmitted: ["orders.read"] }),
    ]);
  });

  it("tells the caller how an unowned audience is claimed", () => {
    const d = asBilling(set([squatter]));
    expect(d.allowed ? "" : d.message).toContain("publishes a TokenAudience");
  });

  it("records the narrowing when defaults the owner does not admit are dropped", () => {
    const d = asBilling(set([squatter, owners(ownedByTeamA)], [admitBillingForReads]));
    expect(d.allowed && d.grant.clamps).toEqual(["default scopes orders.write dropped: not admitted by TokenAudience team-a/orders (team orders, contact #orders-oncall)"]);
  });

  it("compares request audiences in canonical form, so another spelling reaches the same owner", () => {
    const policies = set([squatter, owners(ownedByTeamA)], [admitBillingForReads]);
    for (const spelling of ["https://orders.internal/", "HTTPS://ORDERS.INTERNAL", "https://orders.internal:443"]) {
      expect(outcome(asBilling(policies, ["orders.write"], [spelling]))).toBe("AudienceOwnerDenied by owner");
      expect(outcome(asBilling(policies, ["orders.read"], [spelling]))).toBe("allowed orders.read");
    }
  });

  it("clamps the TTL to the contract's maximum", () => {
    const d = asBilling(set([squatter, owners(ownedByTeamA)], [{ ...admitBillingForReads, spec: { ...admitBillingForReads.spec, maxTtlSeconds: 120 } }]), ["orders.read"]);
    expect(d.allowed && d.grant.ttlSeconds).toBe(120);
  });

  it("denies a grant without a claim the contract requires", () => {
    const requiring = { ...admitBillingForReads, spec: { ...admitBillingForReads.spec, requiredClaims: ["tenant"] } };
    const d = asBilling(set([squatter, owners(ownedByTeamA)], [requiring]), ["orders.read"]);
    expect(d.allowed ? "" : d.message).toContain("requires claim 'tenant'");
    const withTenant = tokenPolicy("orders-please", { ...squatter.spec, claims: [{ name: "tenant", expression: '"acme"' }] }, "team-b");
    expect(asBilling(set([withTenant, owners(ownedByTeamA)], [requiring]), ["orders.read"]).allowed).toBe(true);
  });

  it.each<[string, boolean, boolean, readonly string[] | undefined]>([
    ["neither party requires binding: a bearer token may be issued", false, false, undefined],
    ["the owner requires binding though the caller's policy does not", false, true, ["TokenAudience team-a/orders (team orders, contact #orders-oncall)"]],
    ["the caller's policy requires binding though the owner does not", true, false, ["TokenPolicy/team-b/orders-please"]],
    [
      "both require binding: each is named",
      true,
      true,
      ["TokenPolicy/team-b/orders-please", "TokenAudience team-a/orders (team orders, contact #orders-oncall)"],
    ],
  ])("%s", (_name, policyRequires, ownerRequires, requiredBy) => {
    const caller = tokenPolicy("orders-please", { ...squatter.spec, requireDPoP: policyRequires }, "team-b");
    const ownerContract = { ...admitBillingForReads, spec: { ...admitBillingForReads.spec, requireDPoP: ownerRequires } };
    const d = asBilling(set([caller, owners(ownedByTeamA)], [ownerContract]), ["orders.read"]);
    expect(d.allowed && d.grant.dpopRequiredBy).toEqual(requiredBy);
  });

  it("refuses a contract whose requireDPoP is not a boolean", () => {
    const result = compileContract({ ...admitBillingForReads, spec: { ...admitBillingForReads.spec, requireDPoP: "yes" as unknown as boolean } });
    expect(result.ok ? [] : result.errors.map((e) => e.path)).toEqual(["spec.requireDPoP"]);
  });

  it("runs a caller entry's CEL conditions over the caller's subject", () => {
    const prodOnly = contract("orders", "team-a", {
      callers: [
        {
          name: "prod-billing",
          serviceAccounts: [{ namespace: "team-b", name: "billing" }],
          conditions: [{ name: "prod", expression: 'cluster.environment == "prod"', message: "only production callers" }],
          scopes: ["orders.read"],
        },
      ],
    });
    const policies = set([squatter, owners(ownedByTeamA)], [prodOnly]);
    const run = (environment: string) =>
      decide({
        subject: subject({ namespace: "team-b", serviceAccount: "billing", namespaceLabels: TEAM_B_LABELS, environment }),
        request: request([ORDERS], ["orders.read"]),
        policies,
        now: NOW,
        id: "d",
        namespaceLabels: (ns) => LABELS[ns],
      });
    expect(run("prod").allowed).toBe(true);
    const denied = run("dev");
    expect(denied.allowed ? "" : denied.message).toContain("condition 'prod' failed: only production callers");
  });
});

describe("a Service URL belongs to its namespace with no configuration", () => {
  const svc = "https://orders.team-a.svc.cluster.local";
  const policy = tokenPolicy("svc", { subjects: { serviceAccounts: ["billing"] }, audiences: [svc], scopes: { allowed: ["orders.read"] } }, "team-b");
  const admitting = contract("orders", "team-a", { audience: svc, callers: [{ name: "billing", serviceAccounts: [{ namespace: "team-b", name: "billing" }], scopes: ["orders.read"] }] });

  it.each<[string, PolicySet, string]>([
    ["its namespace's contract admits the caller", set([policy], [admitting]), "allowed orders.read"],
    ["a contract in another namespace does not count", set([policy], [{ ...admitting, metadata: { ...admitting.metadata, namespace: "team-b" } }]), "AudienceUnowned by owner"],
    ["an operator's explicit rule outranks it", set([policy, owners({ audiences: [svc], ownedBy: "Open" })]), "allowed orders.read"],
  ])("%s", (_name, policies, expected) => {
    expect(outcome(asBilling(policies, ["orders.read"], [svc]))).toBe(expected);
  });
});

describe("operators cannot be bypassed", () => {
  const open = owners({ allAudiences: true, ownedBy: "Open" });
  const approvedImagesOnly = clusterPolicy("kube-deploy", {
    subjects: { namespaceSelector: {}, serviceAccounts: ["billing"] },
    audiences: [ORDERS],
    conditions: [{ name: "approved", expression: 'pod.labels["approved"] == "true"', message: "only approved pods" }],
  });

  it("a ClusterTokenPolicy's audience is exclusive: a TokenPolicy cannot route around its condition", () => {
    const d = asBilling(set([squatter, approvedImagesOnly, open]), ["orders.read"]);
    expect(outcome(d)).toBe("ConditionFailed by operator");
  });

  it("a TokenPolicy is consulted where the ClusterTokenPolicy opts in", () => {
    const optIn = clusterPolicy("kube-deploy", { ...approvedImagesOnly.spec, allowTokenPolicies: true });
    expect(outcome(asBilling(set([squatter, optIn, open]), ["orders.read"]))).toBe("allowed orders.read");
  });
});

describe("names are refused in every spelling", () => {
  it.each([
    ["Groups", "reserved for ClusterTokenPolicies"],
    ["ROLES", "reserved for ClusterTokenPolicies"],
    ["realm_access", "reserved for ClusterTokenPolicies"],
    ["acr", "set by the issuer"],
    ["AMR", "set by the issuer"],
    ["azp", "set by the issuer"],
    ["scp", "set by the issuer"],
    ["permissions", "set by the issuer"],
    ["auth_time", "set by the issuer"],
    ["nonce", "set by the issuer"],
    ["sid", "set by the issuer"],
    ["at_hash", "set by the issuer"],
    ["Cnf", "set by the issuer"],
    ["__proto__", "prototype"],
    ["constructor", "prototype"],
    ["prototype", "prototype"],
  ])("a TokenPolicy may not set claim %s", (name, message) => {
    const result = compilePolicy(tokenPolicy("p", { claims: [{ name, expression: '"x"' }] }));
    expect(result.ok ? "" : JSON.stringify(result.errors)).toContain(message);
  });

  it.each([
    ["https://payments.example/"],
    ["HTTPS://PAYMENTS.EXAMPLE"],
    ["https://payments.example:443"],
  ])("a policy spelling an audience as %s is refused with the canonical spelling", (audience) => {
    const result = compilePolicy(tokenPolicy("p", { audiences: [audience] }));
    expect(result.ok ? "" : JSON.stringify(result.errors)).toContain("canonical form 'https://payments.example'");
  });

  it("builds claims in an object without a prototype", () => {
    const d = asBilling(set([tokenPolicy("p", { ...squatter.spec, claims: [{ name: "tenant", expression: '"acme"' }] }, "team-b"), owners({ audiences: [ORDERS], ownedBy: "Open" })]));
    expect(d.allowed && Object.getPrototypeOf(d.grant.claims)).toBeNull();
  });
});

describe("the audience's owner has its say on delegated tokens", () => {
  const planner = { sub: "system:serviceaccount:agents:planner", iss: "https://kubernetes.default.svc", serviceAccount: { namespace: "agents", name: "planner" } };
  const delegating = tokenPolicy("orders-please", {
    subjects: { serviceAccounts: ["billing"] },
    audiences: [ORDERS],
    scopes: { allowed: ["orders.read", "orders.write"] },
    delegation: { actors: [{ serviceAccount: { namespace: "agents", name: "planner" } }], maxChainLength: 2 },
  }, "team-b");
  const admitBoth = (delegation?: TokenAudienceSpec["delegation"]) =>
    contract("orders", "team-a", {
      callers: [{ name: "billing", serviceAccounts: [{ namespace: "team-b", name: "billing" }], scopes: ["orders.read", "orders.write"] }],
      ...(delegation === undefined ? {} : { delegation }),
    });
  const asAgent = (policies: PolicySet, scopes: readonly string[], actors = [planner]) =>
    decide({
      subject: subject({ namespace: "team-b", serviceAccount: "billing", namespaceLabels: TEAM_B_LABELS, actors }),
      request: request([ORDERS], scopes),
      policies,
      now: NOW,
      id: "d",
      namespaceLabels: (ns) => LABELS[ns],
    });

  it.each<[string, TokenAudienceSpec["delegation"], readonly string[], number, string]>([
    ["without a delegation block, the callers' policies decide", undefined, ["orders.write"], 1, "allowed orders.write"],
    ["maxChainLength 0 refuses every delegated token", { maxChainLength: 0 }, ["orders.read"], 1, "AudienceOwnerDenied by owner"],
    ["a chain longer than the owner accepts is refused", { maxChainLength: 1 }, ["orders.read"], 2, "AudienceOwnerDenied by owner"],
    ["an actor may hold a scope the owner lets actors hold", { maxChainLength: 1, scopes: ["orders.read"] }, ["orders.read"], 1, "allowed orders.read"],
    ["an actor never holds a scope the owner keeps for the caller itself", { maxChainLength: 1, scopes: ["orders.read"] }, ["orders.write"], 1, "AudienceOwnerDenied by owner"],
  ])("%s", (_name, delegation, scopes, chain, expected) => {
    const d = asAgent(set([delegating, owners(ownedByTeamA)], [admitBoth(delegation)]), scopes, Array.from({ length: chain }, () => planner));
    expect(outcome(d)).toBe(expected);
  });

  it("leaves tokens the caller asks in its own name alone", () => {
    const d = asBilling(set([delegating, owners(ownedByTeamA)], [admitBoth({ maxChainLength: 0 })]), ["orders.write"]);
    expect(outcome(d)).toBe("allowed orders.write");
  });

  it("refuses to compile a delegated scope the contract does not define", () => {
    const result = compileContract(admitBoth({ maxChainLength: 1, scopes: ["admin"] }));
    expect(result.ok ? [] : result.errors.map((e) => e.path)).toEqual(["spec.delegation.scopes[0]"]);
  });
});
