// Explain: decisions reshaped for people, requests taken from the query or the pod's annotations, aligned text output.

import { describe, expect, it } from "vitest";
import { parseExplainQuery } from "../../../../controller/src/issuer/explain/http.ts";
import { Explainer, explainDecision, requestsFor } from "../../../../controller/src/issuer/explain/explainer.ts";
import { formatExplainReport } from "../../../../controller/src/issuer/explain/format.ts";
import { isAuditEndpointError } from "../../../../controller/src/issuer/audit/errors.ts";
import type { PodInfo } from "../../../../controller/src/issuer/subject/pod-lookup.ts";
import { allowed, denied } from "../decision-fixtures.ts";

const ISSUER = "https://tessera.example";
const pod: PodInfo = {
  namespace: "payments",
  name: "api-7d9f",
  uid: "uid-1",
  serviceAccountName: "api",
  labels: { app: "api" },
  annotations: { "tessera.dev/audiences": "https://a.example, https://b.example", "tessera.dev/scopes": "read  write" },
};

describe("explain", () => {
  it("explains an allowed decision: chosen policy, guardrails, grant and the claims without per-token ones", () => {
    const explained = explainDecision(allowed, ISSUER);
    expect(explained).toMatchObject({
      allowed: true,
      policy: { ref: "TokenPolicy/payments/ledger", generation: 3 },
      clamps: ["ttl clamped to 300s by ClusterTokenPolicy/baseline"],
      guardrails: [],
      granted: { audiences: ["https://ledger.example"], scopes: ["ledger.read"], ttlSeconds: 300 },
    });
    expect(explained.policies.map((p) => [p.policy, p.chosen])).toEqual([
      ["TokenPolicy/payments/ledger", true],
      ["ClusterTokenPolicy/baseline", false],
    ]);
    expect(explained.claims).toMatchObject({ iss: ISSUER, sub: "system:serviceaccount:payments:api", tenant: "acme", scope: "ledger.read" });
    expect(Object.keys(explained.claims ?? {})).not.toContain("jti");
    expect(Object.keys(explained.claims ?? {})).not.toContain("exp");
  });

  it("explains a denial with its reason, message and failed condition, and no claims", () => {
    const explained = explainDecision(denied, ISSUER);
    expect(explained).toMatchObject({ allowed: false, reason: "ScopeNotAllowed", message: denied.message, clamps: [] });
    expect(explained.claims).toBeUndefined();
    expect(explained.policies[0]?.conditions).toEqual([{ name: "production-only", passed: false, message: "only in prod" }]);
  });

  it.each([
    ["the query's audience and scopes", { audiences: ["https://x.example"], scopes: ["s"] }, [{ audiences: ["https://x.example"], scopes: ["s"] }]],
    [
      "the pod's annotations, one request per audience",
      { audiences: [], scopes: [] },
      [
        { audiences: ["https://a.example"], scopes: ["read", "write"] },
        { audiences: ["https://b.example"], scopes: ["read", "write"] },
      ],
    ],
  ])("asks for %s", (_name, query, expected) => {
    expect(requestsFor({ namespace: "payments", pod: "api-7d9f", ...query }, pod)).toEqual(expected);
  });

  it("names both sides of a denial: which party said no, and each audience's owner with its contact", () => {
    const ownerDenial = {
      ...denied,
      reason: "AudienceOwnerDenied" as const,
      deniedBy: "owner" as const,
      message: "TokenPolicy/payments/ledger grants scope 'ledger.write', but TokenAudience ledger/ledger-api (team ledger, contact #ledger) admits service account payments/api for ledger.read only",
      audiences: [
        {
          audience: "https://ledger.example",
          ownedBy: "Contract" as const,
          assignedBy: "ClusterTokenPolicy/owners",
          contract: { namespace: "ledger", name: "ledger-api", generation: 2 },
          ownerTeam: "ledger",
          ownerContact: "#ledger",
          admittedBy: ["payments"],
          scopesAdmitted: ["ledger.read"],
          conditions: [],
        },
      ],
    };
    const explained = explainDecision(ownerDenial, "https://tessera.example");
    expect(explained).toMatchObject({ deniedBy: "owner", owners: [{ audience: "https://ledger.example", ownerTeam: "ledger", scopesAdmitted: ["ledger.read"] }] });
    const text = formatExplainReport({ pod: { namespace: "payments", name: "api-0", uid: "u", serviceAccount: "payments/api" }, at: ownerDenial.at, requests: [explained] });
    expect(text).toContain("DENIED: AudienceOwnerDenied (said by the audience's owner)");
    expect(text).toContain("https://ledger.example: TokenAudience ledger/ledger-api (team ledger, #ledger), admits ledger.read [ClusterTokenPolicy/owners]");
  });

  it("asks the engine once per request and mints nothing", async () => {
    const seen: string[] = [];
    const explainer = new Explainer({
      pods: { get: () => pod },
      namespaces: { get: () => ({ name: "payments", labels: {} }) },
      engine: {
        explain: (input) => {
          seen.push(input.request.audiences.join(","));
          return { decision: { ...denied, request: input.request, subject: input.subject }, guardrails: ["maxTtlSeconds 300 (ClusterTokenPolicy/baseline)"] };
        },
      },
      cluster: { name: "east-1", environment: "prod" },
      issuer: ISSUER,
      now: () => new Date("2026-11-23T01:00:00Z"),
    });
    const report = await explainer.explain({ namespace: "payments", pod: "api-7d9f", audiences: [], scopes: [] });
    expect(seen).toEqual(["https://a.example", "https://b.example"]);
    expect(report.requests[0]?.guardrails).toEqual(["maxTtlSeconds 300 (ClusterTokenPolicy/baseline)"]);
    expect(report.pod).toEqual({ namespace: "payments", name: "api-7d9f", uid: "uid-1", serviceAccount: "api" });
  });

  it("explains a delegated token: the chain reaches the engine, and each link is shown with the rule that let it act", async () => {
    const chains: string[][] = [];
    const explainer = new Explainer({
      pods: { get: () => pod },
      namespaces: { get: () => ({ name: "payments", labels: {} }) },
      engine: {
        explain: (input) => {
          chains.push(input.subject.actors.map((a) => a.sub));
          const delegation = input.subject.actors.map((a, i) => ({ actor: a.sub, allowedBy: `TokenPolicy/payments/ledger spec.delegation.actors[${i}]` }));
          return { decision: { ...allowed, request: input.request, subject: input.subject, delegation }, guardrails: [] };
        },
      },
      cluster: { name: "east-1", environment: "prod" },
      issuer: ISSUER,
      now: () => new Date("2026-11-23T01:00:00Z"),
    });
    const actors = ["system:serviceaccount:agents:searcher", "system:serviceaccount:agents:planner"];
    const report = await explainer.explain({ namespace: "payments", pod: "api-7d9f", audiences: ["a"], scopes: [], actors });
    expect(chains).toEqual([actors]);
    const text = formatExplainReport(report);
    expect(text).toMatch(/\nActing +system:serviceaccount:agents:searcher: allowed by TokenPolicy\/payments\/ledger spec\.delegation\.actors\[0\]\n {2}for +system:serviceaccount:agents:planner: allowed by /);
    await expect(explainer.explain({ namespace: "payments", pod: "api-7d9f", audiences: ["a"], scopes: [], actors: ["user:alice"] })).rejects.toSatisfy((e) =>
      isAuditEndpointError(e, "InvalidRequest"),
    );
  });

  it("reports a missing pod as PodNotFound", async () => {
    const explainer = new Explainer({
      pods: { get: () => undefined },
      namespaces: { get: () => ({ name: "payments", labels: {} }) },
      engine: { explain: () => ({ decision: denied, guardrails: [] }) },
      cluster: { name: "c", environment: "e" },
      issuer: ISSUER,
      now: () => new Date(0),
    });
    await expect(explainer.explain({ namespace: "payments", pod: "gone", audiences: ["a"], scopes: [] })).rejects.toSatisfy((e) =>
      isAuditEndpointError(e, "PodNotFound"),
    );
  });

  it("formats a readable, aligned report", () => {
    const text = formatExplainReport({
      pod: { namespace: "payments", name: "api-7d9f", uid: "uid-1", serviceAccount: "api" },
      at: "2026-11-23T01:00:00.000Z",
      requests: [explainDecision(allowed, ISSUER, ["maxTtlSeconds 300 (ClusterTokenPolicy/baseline)"]), explainDecision(denied, ISSUER)],
    });
    expect(text).toContain("Pod              payments/api-7d9f (uid uid-1)\n");
    expect(text).toContain("Decision    ALLOWED under TokenPolicy/payments/ledger (generation 3)\n");
    expect(text).toContain("Clamped     ttl clamped to 300s by ClusterTokenPolicy/baseline\n");
    expect(text).toContain("Binding     bearer, or DPoP-bound when the request carries a proof\n");
    expect(text).toContain("Guardrails  maxTtlSeconds 300 (ClusterTokenPolicy/baseline)\n");
    expect(text).toContain("  * TokenPolicy/payments/ledger  gen 3, selected, audience allowed\n");
    expect(text).toContain("      pass  production-only\n");
    expect(text).toContain("    ClusterTokenPolicy/baseline  gen 1, not selected, audience not allowed, skipped: namespaceSelector does not match\n");
    expect(text).toContain("Decision  DENIED: ScopeNotAllowed (said by the caller's policy)\n");
    expect(text).toContain("      FAIL  production-only: only in prod\n");
    expect(text).toMatch(/\n {2}tenant {2,}acme\n/);
    expect(text.endsWith("\n")).toBe(true);
  });

  it("says who requires a DPoP-bound token when someone does", () => {
    const bound = { ...allowed, grant: { ...allowed.grant, dpopRequiredBy: ["TokenAudience ledger/ledger (team ledger)"] } };
    const explained = explainDecision(bound, ISSUER);
    expect(explained.granted?.dpopRequiredBy).toEqual(["TokenAudience ledger/ledger (team ledger)"]);
    const text = formatExplainReport({ pod: { namespace: "payments", name: "api-7d9f", uid: "uid-1", serviceAccount: "api" }, at: "2026-11-23T01:00:00.000Z", requests: [explained] });
    expect(text).toMatch(/\nBinding +DPoP-bound only, required by TokenAudience ledger\/ledger \(team ledger\)\n/);
  });

  it.each([
    ["a full query", "namespace=payments&pod=api&audience=a&audience=b&scope=x%20y&scope=z", { audiences: ["a", "b"], scopes: ["x", "y", "z"], actors: [] }],
    ["a delegation chain", "namespace=payments&pod=api&actor=system:serviceaccount:agents:planner", { actors: ["system:serviceaccount:agents:planner"] }],
    ["no pod", "namespace=payments", undefined],
    ["two namespaces", "namespace=a&namespace=b&pod=p", undefined],
    ["a bad name", "namespace=Pay_ments&pod=p", undefined],
    ["an empty audience", "namespace=a&pod=p&audience=", undefined],
  ])("parses %s", (_name, query, expected) => {
    const parsed = parseExplainQuery(new URLSearchParams(query));
    if (expected === undefined) expect(parsed.ok).toBe(false);
    else expect(parsed).toMatchObject({ ok: true, ...expected });
  });
});
