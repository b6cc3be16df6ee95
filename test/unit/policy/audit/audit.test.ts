// Audit mode in the engine: an audited rule changes nothing that is decided, and its record says what it would have.
import { describe, expect, it } from "vitest";
import type { TokenAudience, TokenAudienceSpec } from "../../../../api/token-audience.ts";
import type { AnyTokenPolicy, AudienceOwnershipRule, PolicyCondition } from "../../../../api/token-policy.ts";
import { compileContract } from "../../../../controller/src/policy/audience/contract.ts";
import { MAX_AUDITED_RULES_PER_DECISION } from "../../../../controller/src/policy/audit.ts";
import { CostMeter, PolicySet, compilePolicy, decide, explain, type Decision } from "../../../../controller/src/policy/index.ts";
import { NOW, OPEN_EVERY_AUDIENCE, clusterPolicy, compiled, request, subject, tokenPolicy } from "../fixtures.ts";

const LEDGER = "https://ledger.internal";
const ORDERS = "https://orders.internal";
const LABELS: Readonly<Record<string, Record<string, string>>> = { orders: { team: "orders" }, payments: { "tessera.dev/tenant": "acme" } };

const failing: PolicyCondition = { name: "never", expression: "false", message: "this is never true" };
const passing: PolicyCondition = { name: "always", expression: "true", message: "always true" };
const audit = <T extends PolicyCondition>(c: T): T => ({ ...c, enforcement: "Audit" });

const ledgerReader = tokenPolicy("ledger-reader", { scopes: { allowed: ["read", "write"], default: ["read", "write"] }, ttlSeconds: 900 });
const railsReservingLedger = clusterPolicy("reserve-ledger", { guardrails: { reservedAudiences: [LEDGER] } });
const railsShortTtl = clusterPolicy("short-ttl", { guardrails: { maxTtlSeconds: 300 } });
const railsNoWrite = clusterPolicy("no-write", { guardrails: { allowedScopes: ["read"] } });
const railsElsewhere = clusterPolicy("prod-only", { guardrails: { namespaceSelector: { matchLabels: { env: "prod" } }, maxTtlSeconds: 60 } });
const audited = <T extends AnyTokenPolicy>(p: T): T => ({ ...p, spec: { ...p.spec, enforcement: "Audit" } });

function ordersContract(name: string, spec: Partial<TokenAudienceSpec> = {}): TokenAudience {
  return {
    apiVersion: "tessera.dev/v1alpha1",
    kind: "TokenAudience",
    metadata: { name, namespace: "orders", generation: 3 },
    spec: {
      audience: ORDERS,
      owner: { team: "orders", contact: "#orders" },
      scopes: [{ name: "read", description: "read orders" }],
      callers: [{ name: "payments", serviceAccounts: [{ namespace: "payments", name: "api" }], scopes: ["read"] }],
      ...spec,
    },
  };
}
const ordersOwned: AudienceOwnershipRule = { audiences: [ORDERS], ownedBy: "Namespaces", namespaceSelector: { matchLabels: { team: "orders" } } };
const ordersAsker = tokenPolicy("orders-reader", { audiences: [ORDERS], scopes: { allowed: ["read"], default: ["read"] } });

function set(policies: readonly AnyTokenPolicy[], contracts: readonly TokenAudience[] = []): PolicySet {
  return PolicySet.from(
    [...policies, OPEN_EVERY_AUDIENCE].map(compiled),
    [],
    contracts.map((c) => {
      const result = compileContract(c);
      if (!result.ok) throw new Error(`contract does not compile: ${JSON.stringify(result.errors)}`);
      return result.contract;
    }),
  );
}

function ask(policies: PolicySet, audiences: readonly string[] = [LEDGER], scopes: readonly string[] = [], meter?: CostMeter): Decision {
  return decide({
    subject: subject(),
    request: request(audiences, scopes),
    policies,
    now: NOW,
    id: "d",
    namespaceLabels: (ns) => LABELS[ns],
    ...(meter === undefined ? {} : { meter }),
  });
}

const outcome = (d: Decision) => (d.allowed ? `allowed ${d.grant.scopes.join(" ")} ${d.grant.ttlSeconds}s` : `denied ${d.reason}`);
const records = (d: Decision) => (d.audit ?? []).map((a) => `${a.rule.kind}/${a.rule.name} ${a.rule.rule}: ${a.wouldHave}${a.reason === undefined ? "" : ` ${a.reason}`}`);

describe("an audited rule is decided as if absent and recorded as if enforced", () => {
  it.each<[string, readonly AnyTokenPolicy[], readonly TokenAudience[], readonly string[], readonly string[], string, readonly string[]]>([
    [
      "an audited guardrail reserving the audience refuses nothing and records the refusal",
      [ledgerReader, audited(railsReservingLedger)], [], [LEDGER], [],
      "allowed read write 900s",
      ["ClusterTokenPolicy/reserve-ledger spec: denied GuardrailViolation"],
    ],
    [
      "an audited guardrail with a shorter TTL clamps nothing and records the clamp",
      [ledgerReader, audited(railsShortTtl)], [], [LEDGER], [],
      "allowed read write 900s",
      ["ClusterTokenPolicy/short-ttl spec: clamped Clamped"],
    ],
    [
      "an audited guardrail on scopes records that a default scope would have been dropped",
      [ledgerReader, audited(railsNoWrite)], [], [LEDGER], [],
      "allowed read write 900s",
      ["ClusterTokenPolicy/no-write spec: clamped Clamped"],
    ],
    [
      "the same guardrail records a refusal of a requested scope",
      [ledgerReader, audited(railsNoWrite)], [], [LEDGER], ["write"],
      "allowed write 900s",
      ["ClusterTokenPolicy/no-write spec: denied ScopeNotAllowed"],
    ],
    [
      "an audited guardrail that does not select the namespace is not recorded at all",
      [ledgerReader, audited(railsElsewhere)], [], [LEDGER], [],
      "allowed read write 900s",
      [],
    ],
    [
      "an audited guardrail that would not change the grant is recorded as unchanged",
      [tokenPolicy("short", { ttlSeconds: 120 }), audited(railsShortTtl)], [], [LEDGER], [],
      "allowed  120s",
      ["ClusterTokenPolicy/short-ttl spec: unchanged"],
    ],
    [
      "an enforced guardrail still clamps next to an audited one",
      [ledgerReader, railsShortTtl, audited(railsNoWrite)], [], [LEDGER], [],
      "allowed read write 300s",
      ["ClusterTokenPolicy/no-write spec: clamped Clamped"],
    ],
    [
      "an audited condition that fails denies nothing and records the denial",
      [tokenPolicy("ledger", { conditions: [passing, audit(failing)] })], [], [LEDGER], [],
      "allowed  600s",
      ["TokenPolicy/ledger spec.conditions[never]: denied ConditionFailed"],
    ],
    [
      "an audited condition that holds is recorded as unchanged",
      [tokenPolicy("ledger", { conditions: [audit(passing)] })], [], [LEDGER], [],
      "allowed  600s",
      ["TokenPolicy/ledger spec.conditions[always]: unchanged"],
    ],
    [
      "an enforced condition still denies next to an audited one",
      [tokenPolicy("ledger", { conditions: [failing, audit(passing)] })], [], [LEDGER], [],
      "denied ConditionFailed",
      ["TokenPolicy/ledger spec.conditions[always]: unchanged"],
    ],
    [
      "an audited policy grants nothing and records what it would have granted",
      [audited(ledgerReader)], [], [LEDGER], [],
      "denied NoMatchingPolicy",
      ["TokenPolicy/ledger-reader spec: granted Granted"],
    ],
    [
      "an audited policy of higher priority records that it would have granted instead",
      [ledgerReader, audited(tokenPolicy("new-reader", { priority: 5, ttlSeconds: 300 }))], [], [LEDGER], [],
      "allowed read write 900s",
      ["TokenPolicy/new-reader spec: granted Granted"],
    ],
    [
      "an audited policy of higher priority whose condition fails records that it would have denied",
      [ledgerReader, audited(tokenPolicy("strict", { priority: 5, conditions: [failing] }))], [], [LEDGER], [],
      "allowed read write 900s",
      ["TokenPolicy/strict spec: denied ConditionFailed"],
    ],
    [
      "an audited policy of the same priority records the conflict it would cause",
      [ledgerReader, audited(tokenPolicy("twin"))], [], [LEDGER], [],
      "allowed read write 900s",
      ["TokenPolicy/twin spec: denied PolicyConflict"],
    ],
    [
      "an audited ClusterTokenPolicy does not keep its audience from TokenPolicies, and records that it would",
      [ledgerReader, audited(clusterPolicy("ledger-for-all", { subjects: { namespaceSelector: {} }, audiences: [LEDGER], ttlSeconds: 60 }))], [], [LEDGER], [],
      "allowed read write 900s",
      ["ClusterTokenPolicy/ledger-for-all spec: granted Granted"],
    ],
    [
      "an audited contract is not the audience's owner, and records that it would have admitted the caller",
      [ordersAsker, clusterPolicy("owners", { audienceOwnership: [ordersOwned] })], [ordersContract("orders", { enforcement: "Audit" })], [ORDERS], [],
      "denied AudienceUnowned",
      ["TokenAudience/orders spec: granted Granted"],
    ],
    [
      "an audited caller condition of an enforced contract denies nothing and records the denial",
      [ordersAsker, clusterPolicy("owners", { audienceOwnership: [ordersOwned] })],
      [ordersContract("orders", { callers: [{ name: "payments", serviceAccounts: [{ namespace: "payments", name: "api" }], conditions: [audit(failing)], scopes: ["read"] }] })],
      [ORDERS], [],
      "allowed read 600s",
      ["TokenAudience/orders spec.callers[payments].conditions[never]: denied AudienceOwnerDenied"],
    ],
  ])("%s", (_name, policies, contracts, audiences, scopes, expected, expectedRecords) => {
    const decision = ask(set(policies, contracts), audiences, scopes);
    expect(outcome(decision)).toBe(expected);
    expect(records(decision)).toEqual(expectedRecords);
  });

  it("records a clamp with the message enforcing the guardrail would have put on the grant", () => {
    const decision = ask(set([ledgerReader, audited(railsShortTtl)]));
    expect(decision.audit?.[0]).toMatchObject({
      rule: { kind: "ClusterTokenPolicy", name: "short-ttl", generation: 1, rule: "spec" },
      wouldHave: "clamped",
      message: "ttl clamped from 900s to 300s by ClusterTokenPolicy/short-ttl",
    });
  });

  it("records a refusal with the reason and message the enforced rule would have answered", () => {
    const enforced = ask(set([ledgerReader, railsReservingLedger]));
    const decision = ask(set([ledgerReader, audited(railsReservingLedger)]));
    expect(enforced.allowed).toBe(false);
    expect(decision.audit?.[0]).toMatchObject({
      wouldHave: "denied",
      reason: enforced.allowed ? "" : enforced.reason,
      message: enforced.allowed ? "" : enforced.message,
    });
  });

  it("is the decision made without the audited rule, field for field", () => {
    const withRule = ask(set([ledgerReader, audited(railsReservingLedger), tokenPolicy("x", { subjects: { serviceAccounts: ["other"] } })]));
    const without = ask(set([ledgerReader, tokenPolicy("x", { subjects: { serviceAccounts: ["other"] } })]));
    const { audit: records, ...rest } = withRule;
    expect(records).toHaveLength(1);
    expect(rest).toEqual(without);
  });

  it("charges an audited rule's CEL to its own counterfactual budget, never to the decision's", () => {
    // A budget of zero units: the decision evaluates no CEL; the audited condition cannot run within it.
    const meter = new CostMeter(0);
    const decision = ask(set([tokenPolicy("ledger", { conditions: [audit(passing)] })]), [LEDGER], [], meter);
    expect(outcome(decision)).toBe("allowed  600s");
    expect(meter.spent).toBe(0);
    expect(records(decision)).toEqual(["TokenPolicy/ledger spec.conditions[always]: denied CostLimitExceeded"]);
  });

  it(`evaluates at most ${MAX_AUDITED_RULES_PER_DECISION} audited rules per request and lists the rest as unevaluated`, () => {
    const many = Array.from({ length: MAX_AUDITED_RULES_PER_DECISION + 2 }, (_, i) => audited(clusterPolicy(`rails-${String(i).padStart(2, "0")}`, { guardrails: { maxTtlSeconds: 300 } })));
    const decision = ask(set([ledgerReader, ...many]));
    expect(decision.audit?.map((a) => a.wouldHave)).toEqual([
      ...Array<string>(MAX_AUDITED_RULES_PER_DECISION).fill("clamped"),
      "unevaluated",
      "unevaluated",
    ]);
    expect(outcome(decision)).toBe("allowed read write 900s");
  });

  it("explain lists audited guardrails apart from the enforced ones", () => {
    const explanation = explain({ subject: subject(), request: request(), policies: set([ledgerReader, railsNoWrite, audited(railsShortTtl)]), now: NOW });
    expect(explanation.guardrails.some((g) => g.includes("short-ttl"))).toBe(false);
    expect(explanation.auditedGuardrails).toEqual(["maxTtlSeconds 300 (ClusterTokenPolicy/short-ttl)"]);
  });
});

describe("enforcement is read and checked when a resource compiles", () => {
  it.each<[string, AnyTokenPolicy, string | undefined]>([
    ["Enforce is the default and may be written", tokenPolicy("p", { enforcement: "Enforce" }), undefined],
    ["Audit on a TokenPolicy compiles", audited(tokenPolicy("p")), undefined],
    ["Audit on a condition compiles", tokenPolicy("p", { conditions: [audit(passing)] }), undefined],
    ["any other value is refused", tokenPolicy("p", { enforcement: "DryRun" as "Audit" }), "spec.enforcement"],
    ["any other value on a condition is refused", tokenPolicy("p", { conditions: [{ ...passing, enforcement: "Warn" as "Audit" }] }), "spec.conditions[0].enforcement"],
    [
      "audience ownership cannot be audited",
      audited(clusterPolicy("owners", { audienceOwnership: [ordersOwned] })),
      "spec.enforcement",
    ],
  ])("%s", (_name, policy, errorPath) => {
    const result = compilePolicy(policy);
    if (errorPath === undefined) expect(result.ok).toBe(true);
    else expect(result.ok ? [] : result.errors.map((e) => e.path)).toContain(errorPath);
  });

  it("an audited policy that does not compile fails nothing closed", () => {
    const broken = audited(clusterPolicy("broken-rails", { guardrails: { maxTtlSeconds: 300, allowedAudiences: ["HTTPS://Ledger.internal/"] } }));
    const result = compilePolicy(broken);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const policies = PolicySet.from([ledgerReader, OPEN_EVERY_AUDIENCE].map(compiled), [{ ref: result.ref, errors: result.errors, hasGuardrails: true, audited: true }]);
    expect(outcome(ask(policies))).toBe("allowed read write 900s");
  });
});
