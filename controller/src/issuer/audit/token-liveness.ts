// Whether a verified Tessera token is still live: the gathering (revocation list, pod, policy) around the pure
// introspection rules. Introspection and the exchange (every grant and actor token presented) both ask here.

import type { AnyTokenPolicy } from "../../../../api/token-policy.ts";
import type { InactiveReason } from "../metrics.ts";
import type { PodLookup } from "../subject/pod-lookup.ts";
import { inactiveReason, tokenBinding, type PolicyState, type TokenBinding } from "./introspection-rules.ts";
import type { RevocationChecker } from "./revocation.ts";

/** Policy lookup by reference (the controller's informer cache in production). */
export interface PolicyLookup {
  get(
    ref: Readonly<{ kind: "TokenPolicy" | "ClusterTokenPolicy"; namespace?: string; name: string }>,
  ): AnyTokenPolicy | undefined | Promise<AnyTokenPolicy | undefined>;
}

/** The live checks of a verified token, as one port. */
export interface TokenLiveness {
  /**
   * Why the token is inactive ("invalid" when its binding claims are missing), or undefined when it is live. Failures
   * to reach a dependency throw: "cannot tell" is never "live".
   */
  inactiveReason(claims: Readonly<Record<string, unknown>>): Promise<InactiveReason | undefined>;
}

export interface TokenLivenessOptions {
  readonly revocations: RevocationChecker;
  readonly pods: PodLookup;
  readonly policies: PolicyLookup;
}

async function policyState(policies: PolicyLookup, binding: TokenBinding): Promise<PolicyState> {
  const policy = await policies.get(binding.policy);
  if (policy === undefined) return { found: false };
  const revokeBefore = policy.spec.revokeBefore;
  return revokeBefore === undefined ? { found: true } : { found: true, revokeBefore };
}

export function createTokenLiveness(o: TokenLivenessOptions): TokenLiveness {
  return {
    async inactiveReason(claims) {
      const binding = tokenBinding(claims);
      const jti = claims["jti"];
      if (binding === undefined || typeof jti !== "string") return "invalid";
      const revoked = o.revocations.isRevoked(jti);
      const [pod, policy] = await Promise.all([o.pods.get(binding.pod.namespace, binding.pod.name), policyState(o.policies, binding)]);
      return inactiveReason(binding, { revoked, pod, policy });
    },
  };
}
