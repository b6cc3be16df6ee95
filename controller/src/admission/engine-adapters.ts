// Adapters from the policy engine's public API to the narrow interfaces admission is built against.
import type { AnyTokenPolicy } from "../../../api/token-policy.ts";
import {
  compilePolicy,
  decide,
  PolicySet,
  validateAgainstGuardrails,
  type CompiledPolicy,
} from "../policy/index.ts";
import type { Decider } from "./engine-preview.ts";
import type { GuardrailChecker, PolicyCompiler } from "./validate-policy.ts";

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

/** A Decider over the policy set the controller currently holds. */
export function engineDecider(options: {
  readonly policies: () => PolicySet;
  readonly now: () => Date;
  readonly newId: () => string;
}): Decider {
  return {
    decide(subject, request) {
      return decide({ subject, request, policies: options.policies(), now: options.now(), id: options.newId() });
    },
  };
}
