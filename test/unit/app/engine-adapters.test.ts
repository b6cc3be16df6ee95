// Admission wired to the real policy engine: CEL errors, guardrails and previews as the webhook reports them.
import { describe, expect, it } from "vitest";
import type { ClusterTokenPolicy, TokenPolicy } from "../../../api/token-policy.ts";
import { engineGuardrailChecker, enginePolicyChooser, enginePolicyCompiler, tesseraPolicyEngine } from "../../../controller/src/app/engine-adapters.ts";
import { enginePolicyPreview } from "../../../controller/src/admission/engine-preview.ts";
import { compilePolicy, decide, PolicySet, type CompiledPolicy, type RejectedPolicy } from "../../../controller/src/policy/index.ts";

function tokenPolicy(spec: Partial<TokenPolicy["spec"]> = {}): TokenPolicy {
  return {
    apiVersion: "tessera.dev/v1alpha1",
    kind: "TokenPolicy",
    metadata: { name: "orders", namespace: "shop", generation: 1 },
    spec: { owner: { team: "shop" }, audiences: ["orders"], subjects: { serviceAccounts: ["web"] }, ...spec },
  };
}

const baseline: ClusterTokenPolicy = {
  apiVersion: "tessera.dev/v1alpha1",
  kind: "ClusterTokenPolicy",
  metadata: { name: "baseline", generation: 1 },
  spec: { owner: { team: "platform" }, guardrails: { reservedAudiences: ["kubernetes"], maxTtlSeconds: 300 } },
};

describe("engine adapters", () => {
  it("reports a CEL error with its field path", () => {
    const problems = enginePolicyCompiler.compile(tokenPolicy({ claims: [{ name: "tenant", expression: "namspace.name" }] }));
    expect(problems[0]?.path).toBe("spec.claims[0].expression");
  });

  it("accepts a policy that compiles", () => {
    expect(enginePolicyCompiler.compile(tokenPolicy())).toEqual([]);
  });

  it("judges guardrails with the compiled policies the controller holds, not a fresh compile of what it is handed", () => {
    // The controller holds baseline compiled at a stricter generation than the spec the source lists here.
    const held = compilePolicy({ ...baseline, spec: { ...baseline.spec, guardrails: { reservedAudiences: ["orders"] } } });
    const stored = { peek: (p: { kind: string }) => (p.kind === "ClusterTokenPolicy" ? (held.ok ? { ok: true as const, compiled: held.policy } : undefined) : undefined) };
    const violations = engineGuardrailChecker(() => ({}), stored).violations(tokenPolicy(), [baseline]);
    expect(violations.map((v) => v.path)).toEqual(["spec.audiences[0]"]);
  });

  it("compiles a policy the controller does not hold yet (the one under review) on the spot", () => {
    const stored = { peek: () => undefined };
    const violations = engineGuardrailChecker(() => ({}), stored).violations(tokenPolicy({ audiences: ["kubernetes"] }), [baseline]);
    expect(violations.filter((v) => v.effect === "deny").map((v) => v.path)).toEqual(["spec.audiences[0]"]);
  });

  it("refuses a reserved audience and only narrows a long TTL", () => {
    const violations = engineGuardrailChecker(() => ({})).violations(tokenPolicy({ audiences: ["kubernetes"], ttlSeconds: 900 }), [baseline]);
    expect(violations.find((v) => v.path === "spec.audiences[0]")?.effect).toBe("deny");
    expect(violations.find((v) => v.path === "spec.ttlSeconds")?.effect).toBe("narrow");
  });
});

describe("enginePolicyPreview", () => {
  const compiled = compilePolicy(tokenPolicy());
  if (!compiled.ok) throw new Error("fixture does not compile");
  const preview = enginePolicyPreview({
    chooser: enginePolicyChooser(() => PolicySet.from([compiled.policy])),
    namespaceLabels: () => ({}),
    cluster: { name: "test", environment: "dev" },
  });
  const pod = { namespace: "shop", name: "web-0", serviceAccountName: "web", labels: {}, annotations: {} };

  it("says nothing when a policy grants every requested audience", async () => {
    expect((await preview.preview(pod, ["orders"])).warnings).toEqual([]);
  });

  it("warns about an audience no policy grants", async () => {
    const { warnings } = await preview.preview(pod, ["billing"]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("billing");
  });

  it("warns when no policy selects the pod's service account at all", async () => {
    const { warnings } = await preview.preview({ ...pod, serviceAccountName: "batch" }, []);
    expect(warnings[0]).toContain("shop/batch");
  });
});

describe("tesseraPolicyEngine, the live set's engine", () => {
  it("fails closed for TokenPolicies while a ClusterTokenPolicy's guardrails do not compile", () => {
    const engine = tesseraPolicyEngine();
    const brokenRails: ClusterTokenPolicy = { ...baseline, metadata: { name: "rails", generation: 1 }, spec: { owner: { team: "platform" }, guardrails: { allowedClaims: ["sub"] } } };
    const compiled: CompiledPolicy[] = [];
    const rejected: RejectedPolicy[] = [];
    const openEveryAudience: ClusterTokenPolicy = {
      ...baseline,
      metadata: { name: "open", generation: 1 },
      spec: { owner: { team: "platform" }, audienceOwnership: [{ allAudiences: true, ownedBy: "Open" }] },
    };
    for (const policy of [tokenPolicy(), brokenRails, openEveryAudience]) {
      const outcome = engine.compile(policy);
      if (outcome.ok) {
        if ("source" in outcome.compiled) compiled.push(outcome.compiled);
      } else if (outcome.rejected !== undefined) {
        rejected.push(outcome.rejected);
      }
    }
    const decision = decide({
      subject: {
        serviceAccount: { namespace: "shop", name: "web" },
        namespace: { name: "shop", labels: {} },
        pod: { name: "web-0", uid: "u", labels: {}, annotations: {} },
        cluster: { name: "test", environment: "dev" },
        actors: [],
      },
      request: { audiences: ["orders"], scopes: [] },
      policies: engine.buildSet(compiled, rejected),
      now: new Date(),
      id: "d-1",
    });
    expect(decision.allowed ? "allowed" : decision.reason).toBe("PolicyNotAccepted");
  });
});
