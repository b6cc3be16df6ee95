// Live PolicySet: compile once per policy generation, rebuild from compiled and rejected policies, forget deleted ones.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { TokenPolicy } from "../../../api/token-policy.ts";
import type { PolicyEngine } from "../../../controller/src/reconcile/policy-engine.ts";
import { LivePolicySet } from "../../../controller/src/reconcile/live-policy-set.ts";

function policy(name: string, generation: number, resourceVersion: string, broken = false): TokenPolicy {
  return {
    apiVersion: "tessera.dev/v1alpha1",
    kind: "TokenPolicy",
    metadata: { name, namespace: "ns", uid: `uid-${name}`, generation, resourceVersion },
    spec: { owner: { team: "t" }, audiences: [broken ? "broken" : "a"], subjects: { serviceAccounts: ["x"] } },
  };
}

function countingEngine() {
  const compiles: string[] = [];
  const engine: PolicyEngine<string, { compiled: string[]; rejected: string[] }, string> = {
    compile(p) {
      compiles.push(`${p.metadata.name}@${p.metadata.generation ?? 0}`);
      return "audiences" in p.spec && p.spec.audiences[0] === "broken" ? { ok: false, errors: [{ path: "spec", message: "bad" }], rejected: p.metadata.name } : { ok: true, compiled: p.metadata.name };
    },
    guardrailViolations: () => [],
    buildSet: (compiled, rejected) => ({ compiled: [...compiled], rejected: [...rejected] }),
    contractStanding: () => undefined,
  };
  return { engine, compiles };
}

describe("LivePolicySet", () => {
  it("compiles a policy once per generation, not again for a status write (new resourceVersion)", () => {
    const { engine, compiles } = countingEngine();
    const set = new LivePolicySet(engine, pino({ level: "silent" }));
    set.rebuild([policy("a", 1, "10")]);
    set.rebuild([policy("a", 1, "11")]);
    set.rebuild([policy("a", 2, "12")]);
    expect(compiles).toEqual(["a@1", "a@2"]);
  });

  it("passes compiled and rejected policies to the engine's set", () => {
    const { engine } = countingEngine();
    const set = new LivePolicySet(engine, pino({ level: "silent" }));
    set.rebuild([policy("good", 1, "1"), policy("bad", 1, "2", true)]);
    expect(set.current).toEqual({ compiled: ["good"], rejected: ["bad"] });
  });

  it("forgets a deleted policy, so a re-created one with the same uid compiles again", () => {
    const { engine, compiles } = countingEngine();
    const set = new LivePolicySet(engine, pino({ level: "silent" }));
    set.rebuild([policy("a", 1, "1")]);
    set.rebuild([]);
    set.rebuild([policy("a", 1, "5")]);
    expect(compiles).toEqual(["a@1", "a@1"]);
    expect(set.current.compiled).toEqual(["a"]);
  });

  it("peeks at the outcome held for a policy's exact generation without compiling or holding anything new", () => {
    const { engine, compiles } = countingEngine();
    const set = new LivePolicySet(engine, pino({ level: "silent" }));
    expect(set.peek(policy("a", 1, "1"))).toBeUndefined();
    set.rebuild([policy("a", 1, "1")]);
    expect(set.peek(policy("a", 1, "2"))).toEqual({ ok: true, compiled: "a" });
    expect(set.peek(policy("a", 2, "3"))).toBeUndefined();
    expect(compiles).toEqual(["a@1"]);
    // The peek at generation 2 left the held generation 1 in place.
    expect(set.peek(policy("a", 1, "4"))).toEqual({ ok: true, compiled: "a" });
  });
});
