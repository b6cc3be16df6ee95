// Adapts the policy engine's decide() to the exchange's Decider, reading the current PolicySet on every call.
import { decide, type PolicySet } from "../policy/index.ts";
import type { Decider } from "../issuer/exchange/decider.ts";

/** `policies` returns the PolicySet the controller keeps current from its informer. */
export function engineDecider(policies: () => PolicySet): Decider {
  return {
    decide: (input) => decide({ ...input, policies: policies() }),
  };
}
