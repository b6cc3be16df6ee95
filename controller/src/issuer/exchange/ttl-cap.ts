// Holds every grant to the issuer's maximum token lifetime, which key retention and the revocation list are sized for.
import type { Decision } from "../../policy/types.ts";
import type { Decider } from "./decider.ts";

/**
 * The decision with its grant's TTL at most `maxTtlSeconds`. A superseded signing key and a revoked jti are kept
 * exactly that long; a longer token would outlive its key or its revocation. A clamped TTL is recorded in the
 * grant's clamps, like a guardrail's, and is not a denial. Pure; anything else is returned as it is.
 */
export function capGrantTtl(decision: Decision, maxTtlSeconds: number): Decision {
  if (!decision.allowed || decision.grant.ttlSeconds <= maxTtlSeconds) return decision;
  const { grant } = decision;
  return {
    ...decision,
    grant: {
      ...grant,
      ttlSeconds: maxTtlSeconds,
      clamps: [...grant.clamps, `ttl clamped from ${grant.ttlSeconds}s to ${maxTtlSeconds}s by the issuer's maximum token lifetime`],
    },
  };
}

/** A decider whose allowed grants never outlive `maxTtlSeconds` (see capGrantTtl). */
export function capTokenLifetime(decider: Decider, maxTtlSeconds: number): Decider {
  return { decide: (input) => capGrantTtl(decider.decide(input), maxTtlSeconds) };
}
