// Adapts Tessera's policy engine (compilePolicy, PolicySet) to the narrow PolicyEngine view reconcile uses.
import type { AnyTokenPolicy, ClusterTokenPolicy } from "../../../api/token-policy.ts";
import { compilePolicy } from "../policy/compile.ts";
import type { CompiledPolicy } from "../policy/compiled-policy.ts";
import { PolicySet } from "../policy/policy-set.ts";
import type { PathMessage, PolicyEngine } from "./engine.ts";

/** Guardrail validation as the engine exposes it (validateAgainstGuardrails); absent until it is wired in. */
export type GuardrailValidator = (policy: AnyTokenPolicy, clusterPolicies: readonly ClusterTokenPolicy[]) => readonly PathMessage[];

export function tesseraPolicyEngine(validate?: GuardrailValidator): PolicyEngine<CompiledPolicy, PolicySet> {
  return {
    compile(policy) {
      const result = compilePolicy(policy);
      return result.ok ? { ok: true, compiled: result.policy } : { ok: false, errors: result.errors.map((e) => ({ path: e.path, message: e.message })) };
    },
    guardrailViolations(policy, clusterPolicies) {
      return validate === undefined ? [] : validate(policy, clusterPolicies);
    },
    buildSet(compiled) {
      return PolicySet.from(compiled);
    },
  };
}
