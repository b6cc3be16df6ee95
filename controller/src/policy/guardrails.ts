// Guardrails: the limits ClusterTokenPolicies set on every TokenPolicy of the namespaces they select.
//
// Several guardrails may apply to one namespace; they combine to the strictest: the smallest maxTtlSeconds and
// maxDelegationChainLength, the intersection of allowed lists, the union of reserved lists. Reserved claims
// always include CLUSTER_RESERVED_CLAIMS; claim names are held lower-case (claim-names.ts says why). Guardrails
// bind TokenPolicies only: ClusterTokenPolicies are the operators' own.

import { CLUSTER_RESERVED_CLAIMS } from "../../../api/constants.ts";
import type { PolicyRef } from "../../../api/token-policy.ts";
import type { CompiledPolicy } from "./compiled-policy.ts";
import { claimKey } from "./claim-names.ts";
import { formatRef } from "./refs.ts";

/** A limit and the policy that set it (the strictest one when several do). */
export interface Bound<V> {
  readonly value: V;
  readonly by: string;
}

export interface EffectiveGuardrails {
  /** The ClusterTokenPolicies whose guardrails apply. */
  readonly sources: readonly PolicyRef[];
  readonly maxTtlSeconds?: Bound<number>;
  readonly maxDelegationChainLength?: Bound<number>;
  /** Undefined = no allow-list; otherwise the intersection of every allow-list. */
  readonly allowedAudiences?: Bound<ReadonlySet<string>>;
  readonly allowedScopes?: Bound<ReadonlySet<string>>;
  readonly allowedClaims?: Bound<ReadonlySet<string>>;
  /** Reserved name -> who reserved it. */
  readonly reservedAudiences: ReadonlyMap<string, string>;
  readonly reservedClaims: ReadonlyMap<string, string>;
}

const BUILT_IN = "Tessera (reserved for ClusterTokenPolicies)";

/** Combines the guardrails of `policies` that select a namespace with these labels. */
export function combineGuardrails(
  policies: readonly CompiledPolicy[],
  namespaceLabels: Readonly<Record<string, string>>,
): EffectiveGuardrails {
  const sources: PolicyRef[] = [];
  let maxTtlSeconds: Bound<number> | undefined;
  let maxDelegationChainLength: Bound<number> | undefined;
  let allowedAudiences: Bound<ReadonlySet<string>> | undefined;
  let allowedScopes: Bound<ReadonlySet<string>> | undefined;
  let allowedClaims: Bound<ReadonlySet<string>> | undefined;
  const reservedAudiences = new Map<string, string>();
  const reservedClaims = new Map<string, string>(CLUSTER_RESERVED_CLAIMS.map((c) => [claimKey(c), BUILT_IN]));
  for (const policy of policies) {
    const rails = policy.guardrails;
    if (rails === undefined || !rails.namespaceSelector.matches(namespaceLabels)) continue;
    sources.push(policy.ref);
    const by = formatRef(policy.ref);
    const { spec } = rails;
    maxTtlSeconds = smaller(maxTtlSeconds, spec.maxTtlSeconds, by);
    maxDelegationChainLength = smaller(maxDelegationChainLength, spec.maxDelegationChainLength, by);
    allowedAudiences = intersect(allowedAudiences, spec.allowedAudiences, by);
    allowedScopes = intersect(allowedScopes, spec.allowedScopes, by);
    allowedClaims = intersect(allowedClaims, spec.allowedClaims?.map(claimKey), by);
    for (const audience of spec.reservedAudiences ?? []) {
      if (!reservedAudiences.has(audience)) reservedAudiences.set(audience, by);
    }
    for (const claim of (spec.reservedClaims ?? []).map(claimKey)) {
      if (!reservedClaims.has(claim)) reservedClaims.set(claim, by);
    }
  }
  return {
    sources,
    ...(maxTtlSeconds === undefined ? {} : { maxTtlSeconds }),
    ...(maxDelegationChainLength === undefined ? {} : { maxDelegationChainLength }),
    ...(allowedAudiences === undefined ? {} : { allowedAudiences }),
    ...(allowedScopes === undefined ? {} : { allowedScopes }),
    ...(allowedClaims === undefined ? {} : { allowedClaims }),
    reservedAudiences,
    reservedClaims,
  };
}

function smaller(current: Bound<number> | undefined, value: number | undefined, by: string): Bound<number> | undefined {
  if (value === undefined) return current;
  return current === undefined || value < current.value ? { value, by } : current;
}

function intersect(
  current: Bound<ReadonlySet<string>> | undefined,
  values: readonly string[] | undefined,
  by: string,
): Bound<ReadonlySet<string>> | undefined {
  if (values === undefined) return current;
  if (current === undefined) return { value: new Set(values), by };
  const next = new Set(values);
  return { value: new Set([...current.value].filter((v) => next.has(v))), by: `${current.by}, ${by}` };
}

/** Why a TokenPolicy may not grant this audience, or undefined when it may. */
export function audienceProblem(g: EffectiveGuardrails, audience: string): string | undefined {
  const reservedBy = g.reservedAudiences.get(audience);
  // Name the guardrail field as well as the policy, so the owner of the refused TokenPolicy knows what to ask about.
  if (reservedBy !== undefined) return `audience '${audience}' is reserved for ClusterTokenPolicies by ${reservedBy} (guardrails.reservedAudiences)`;
  if (g.allowedAudiences !== undefined && !g.allowedAudiences.value.has(audience)) {
    return `audience '${audience}' is not among the audiences allowed by ${g.allowedAudiences.by}`;
  }
  return undefined;
}

/** Why a TokenPolicy may not set this claim, or undefined when it may. */
export function claimProblem(g: EffectiveGuardrails, claim: string): string | undefined {
  const reservedBy = g.reservedClaims.get(claimKey(claim));
  if (reservedBy === BUILT_IN) return `claim '${claim}' is reserved by ${reservedBy}`;
  if (reservedBy !== undefined) return `claim '${claim}' is reserved by ${reservedBy} (guardrails.reservedClaims)`;
  if (g.allowedClaims !== undefined && !g.allowedClaims.value.has(claimKey(claim))) {
    return `claim '${claim}' is not among the claims allowed by ${g.allowedClaims.by}`;
  }
  return undefined;
}

/** Is this scope within the guardrails' allowed scopes? */
export function scopeAllowed(g: EffectiveGuardrails, scope: string): boolean {
  return g.allowedScopes === undefined || g.allowedScopes.value.has(scope);
}
