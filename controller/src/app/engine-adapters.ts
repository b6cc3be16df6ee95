// Adapters from the policy engine's public API to the narrow interfaces admission is built against.
import type { AnyTokenPolicy } from "../../../api/token-policy.ts";
import {
  choosePolicy,
  compilePolicy,
  PolicySet,
  validateAgainstGuardrails,
  type CompiledPolicy,
} from "../policy/index.ts";
import type { PolicyChooser } from "../admission/engine-preview.ts";
import type { GuardrailChecker, PolicyCompiler } from "../admission/validate-policy.ts";

export const enginePolicyCompiler: PolicyCompiler = {
  compile(policy) {
    const result = compilePolicy(policy);
    return result.ok ? [] : result.errors;
  },
};

function compiledAll(policies: readonly AnyTokenPolicy[]): CompiledPolicy[] {
  return policies.flatMap((p) => {
    const result = compilePolicy(p);
    return result.ok ? [result.policy] : [];
  });
}

/**
 * Guardrail checks against the policies in the cluster; `namespaceLabels` comes from the controller's
 * namespace cache (guardrails select namespaces by label).
 */
export function engineGuardrailChecker(
  namespaceLabels: (namespace: string) => Readonly<Record<string, string>> | undefined,
): GuardrailChecker {
  return {
    violations(policy, current) {
      const compiled = compilePolicy(policy);
      // A policy that does not compile is refused for that already; guardrails cannot be judged.
      if (!compiled.ok) return [];
      const labels = namespaceLabels(policy.metadata.namespace ?? "") ?? {};
      return validateAgainstGuardrails(compiled.policy, PolicySet.from(compiledAll(current)), labels);
    },
  };
}

/** A PolicyChooser over the policy set the controller currently holds (the same one issuance decides with). */
export function enginePolicyChooser(policies: () => PolicySet): PolicyChooser {
  return {
    choose(subject, request) {
      return choosePolicy(subject, request, policies());
    },
  };
}
