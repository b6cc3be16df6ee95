// Matching: which policy applies, in documented precedence, and conflicts between equals.

import { describe, expect, it } from "vitest";
import { PolicySet, formatRef } from "../../../controller/src/policy/index.ts";
import { clusterPolicy, compiled, policySet, request, subject, tokenPolicy } from "./fixtures.ts";

const LEDGER = "https://ledger.internal";
const everyNamespace = { namespaceSelector: {} };

function chosen(set: PolicySet, s = subject(), r = request()): string {
  const result = set.match(s, r);
  switch (result.outcome) {
    case "matched":
      return formatRef(result.policy.ref);
    case "conflict":
      return `conflict ${result.policies.map((p) => formatRef(p.ref)).join(" + ")}`;
    default:
      return result.outcome;
  }
}

describe("match precedence", () => {
  it.each([
    [
      "a TokenPolicy of the subject's namespace comes before a ClusterTokenPolicy that allows TokenPolicies",
      [clusterPolicy("c", { subjects: everyNamespace, audiences: [LEDGER], priority: 1000, allowTokenPolicies: true }), tokenPolicy("t")],
      "TokenPolicy/payments/t",
    ],
    [
      "a ClusterTokenPolicy's audience is exclusive to it by default: the TokenPolicy is passed over",
      [clusterPolicy("c", { subjects: everyNamespace, audiences: [LEDGER] }), tokenPolicy("t")],
      "ClusterTokenPolicy/c",
    ],
    [
      "exclusivity holds only in the namespaces the ClusterTokenPolicy selects",
      [clusterPolicy("c", { subjects: { namespaceSelector: { matchLabels: { env: "dev" } } }, audiences: [LEDGER] }), tokenPolicy("t")],
      "TokenPolicy/payments/t",
    ],
    [
      "a higher priority wins within a kind",
      [tokenPolicy("a", { priority: 1 }), tokenPolicy("b", { priority: 5 })],
      "TokenPolicy/payments/b",
    ],
    [
      "a policy that does not allow the audience is passed over for one that does",
      [tokenPolicy("a", { priority: 9, audiences: ["other"] }), tokenPolicy("b")],
      "TokenPolicy/payments/b",
    ],
    [
      "a policy that does not select the subject is passed over",
      [tokenPolicy("a", { priority: 9, subjects: { serviceAccounts: ["worker"] } }), tokenPolicy("b")],
      "TokenPolicy/payments/b",
    ],
    [
      "a TokenPolicy of another namespace never applies",
      [tokenPolicy("a", {}, "billing")],
      "no-match",
    ],
    [
      "a ClusterTokenPolicy applies when its namespaceSelector selects the namespace",
      [clusterPolicy("c", { subjects: { namespaceSelector: { matchLabels: { "tessera.dev/tenant": "acme" } } }, audiences: [LEDGER] })],
      "ClusterTokenPolicy/c",
    ],
    [
      "a ClusterTokenPolicy whose namespaceSelector misses does not apply",
      [clusterPolicy("c", { subjects: { namespaceSelector: { matchLabels: { env: "dev" } } }, audiences: [LEDGER] })],
      "no-match",
    ],
    [
      "two policies of the same kind and priority that both grant are a conflict",
      [tokenPolicy("a"), tokenPolicy("b")],
      "conflict TokenPolicy/payments/a + TokenPolicy/payments/b",
    ],
    [
      "equal priority across kinds is no conflict: the namespace comes first where the cluster policy allows TokenPolicies",
      [tokenPolicy("a"), clusterPolicy("c", { subjects: everyNamespace, audiences: [LEDGER], allowTokenPolicies: true })],
      "TokenPolicy/payments/a",
    ],
    [
      "equal priority is no conflict when only one allows the audience",
      [tokenPolicy("a"), tokenPolicy("b", { audiences: ["other"] })],
      "TokenPolicy/payments/a",
    ],
    [
      "a selecting policy that lacks the audience gives audience-not-allowed",
      [tokenPolicy("a", { audiences: ["other"] })],
      "audience-not-allowed",
    ],
  ])("%s", (_name, policies, expected) => {
    expect(chosen(policySet(...policies))).toBe(expected);
  });

  it("names policies alphabetically within a priority so the order never depends on input order", () => {
    const forward = PolicySet.from([compiled(tokenPolicy("b", { priority: 1 })), compiled(tokenPolicy("a", { priority: 2 }))]);
    const result = forward.match(subject(), request());
    expect(result.evaluations.map((e) => e.policy.name)).toEqual(["a", "b"]);
  });

  it("records why every other candidate was not used", () => {
    const result = policySet(tokenPolicy("a", { priority: 2 }), tokenPolicy("b", { subjects: { serviceAccounts: ["x"] } })).match(
      subject(),
      request(),
    );
    expect(result.evaluations.map((e) => [e.policy.name, e.selected, e.skippedBecause])).toEqual([
      ["a", true, undefined],
      ["b", false, "does not select this subject"],
    ]);
  });

  it("selects by pod labels and service account together", () => {
    const set = policySet(tokenPolicy("a", { subjects: { serviceAccounts: ["api"], podSelector: { matchLabels: { app: "api" } } } }));
    expect(chosen(set, subject({ podLabels: { app: "api" } }))).toBe("TokenPolicy/payments/a");
    expect(chosen(set, subject({ podLabels: { app: "web" } }))).toBe("no-match");
  });

  it("refuses two policies with the same name in one set", () => {
    expect(() => PolicySet.from([compiled(tokenPolicy("a")), compiled(tokenPolicy("a"))])).toThrow(TypeError);
  });

  it("looks only at the subject's namespace among a thousand policies", () => {
    const many = Array.from({ length: 1000 }, (_, i) => compiled(tokenPolicy(`p${i}`, {}, `ns-${i}`)));
    const set = PolicySet.from(many);
    expect(set.candidates("ns-7").map((p) => p.ref.name)).toEqual(["p7"]);
    expect(chosen(set, subject({ namespace: "ns-7" }))).toBe("TokenPolicy/ns-7/p7");
  });
});
