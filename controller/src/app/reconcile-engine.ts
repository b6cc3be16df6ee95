// Adapts Tessera's policy engine (compilePolicy, PolicySet, validateAgainstGuardrails) to the narrow view reconcile uses.
import { compilePolicy, memoizedExpressions, PolicySet, validateAgainstGuardrails, type CompiledPolicy, type RejectedPolicy } from "../policy/index.ts";
import type { PolicyEngine } from "../reconcile/policy-engine.ts";

export function tesseraPolicyEngine(): PolicyEngine<CompiledPolicy, PolicySet, RejectedPolicy> {
  // One memo per engine: every policy the controller caches that spells the same expression shares its program.
  const expressions = memoizedExpressions();
  return {
    compile(policy) {
      const result = compilePolicy(policy, { expressions });
      return result.ok
        ? { ok: true, compiled: result.policy }
        : { ok: false, errors: result.errors.map((e) => ({ path: e.path, message: e.message })), rejected: { ref: result.ref, errors: result.errors } };
    },
    guardrailViolations(compiled, set, namespaceLabels) {
      // Only "deny" makes a policy unacceptable; "narrow" (e.g. a TTL clamped) is applied at issuance and stays allowed.
      return validateAgainstGuardrails(compiled, set, namespaceLabels)
        .filter((v) => v.effect === "deny")
        .map((v) => ({ path: v.path, message: v.message }));
    },
    buildSet(compiled, rejected) {
      return PolicySet.from(compiled, rejected);
    },
  };
}
