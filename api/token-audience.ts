// TokenAudience (an audience owner's contract) and the operator's audience ownership rules: the TypeScript face of
// crds/, kept in agreement by a test.
//
// Three parties decide what a token says: the caller's team asks (TokenPolicy), the audience's owner decides who
// may hold its scopes and what they mean (TokenAudience), and the operator bounds both and assigns audiences to
// owners (ClusterTokenPolicy spec.audienceOwnership and guardrails).

import type {
  AnyTokenPolicy,
  AuditStatus,
  Condition,
  Enforcement,
  LabelSelector,
  ObjectMeta,
  PolicyCondition,
  PolicyOwner,
  ServiceAccountRef,
} from "./token-policy.ts";

export type { AudienceOwnerKind, AudienceOwnershipRule } from "./token-policy.ts";

/** One scope an audience defines, with what it lets its holder do. */
export interface AudienceScope {
  /** The scope token, as it appears in the `scope` claim (RFC 6749 section 3.3). */
  readonly name: string;
  /** What a holder of this scope may do at the API, for people deciding whether to grant it. */
  readonly description: string;
}

/**
 * Callers the owner admits and the scopes they may hold. Every field that is set must match (AND); at least one
 * of serviceAccounts and namespaceSelector is required (`namespaceSelector: {}` admits every namespace).
 */
export interface AudienceCaller {
  /** Short name shown in decisions and explain output, e.g. "billing-reads". */
  readonly name: string;
  /** Service accounts admitted, by namespace and name. */
  readonly serviceAccounts?: readonly ServiceAccountRef[];
  /** Namespaces admitted, by their labels. */
  readonly namespaceSelector?: LabelSelector;
  /** CEL conditions over the caller's subject vector that must all hold. */
  readonly conditions?: readonly PolicyCondition[];
  /** Scopes these callers may hold; each must be defined in spec.scopes. Empty admits the caller with no scope. */
  readonly scopes: readonly string[];
}

/** What an audience accepts from delegated callers (tokens whose act chain is not empty). */
export interface AudienceDelegation {
  /** Longest act chain a token for this audience may carry, 0..8; 0 refuses every delegated token. */
  readonly maxChainLength: number;
  /** Scopes a delegated token may carry (each defined in spec.scopes); absent means what the caller entries admit. */
  readonly scopes?: readonly string[];
}

export interface TokenAudienceSpec {
  /** The audience (the `aud` value), in canonical form: scheme and host lower-case, no default port, no trailing slash. */
  readonly audience: string;
  /** Who answers for the audience; the contact is named in every denial the contract causes. */
  readonly owner: PolicyOwner;
  /** Free text for people. */
  readonly description?: string;
  /** Every scope the audience defines. A scope not listed here is never granted for this audience. */
  readonly scopes?: readonly AudienceScope[];
  /** Who may hold which scopes. A caller no entry admits gets no token for this audience. */
  readonly callers: readonly AudienceCaller[];
  /** Longest lifetime of a token for this audience, 60..86400; longer grants are clamped. */
  readonly maxTtlSeconds?: number;
  /** Claims every token for this audience must carry (e.g. "tenant"); a grant without one is denied. */
  readonly requiredClaims?: readonly string[];
  /**
   * true: every token for this audience is DPoP-bound (RFC 9449) to the requesting sidecar's key, whatever the
   * caller's policy says, so the owner's API never receives a bearer token from Tessera.
   */
  readonly requireDPoP?: boolean;
  /** What the owner accepts from delegated callers; absent leaves it to the callers' policies. */
  readonly delegation?: AudienceDelegation;
  /**
   * Audit: the contract decides nothing (the audience is decided as if it did not exist) and decisions record what
   * it would have refused, clamped or admitted. Default Enforce.
   */
  readonly enforcement?: Enforcement;
}

export interface TokenAudienceStatus {
  readonly observedGeneration?: number;
  readonly conditions?: readonly Condition[];
  /** Present while anything in the contract is audited. */
  readonly audit?: AuditStatus;
}

export interface TokenAudience {
  readonly apiVersion: "tessera.dev/v1alpha1";
  readonly kind: "TokenAudience";
  readonly metadata: ObjectMeta;
  readonly spec: TokenAudienceSpec;
  readonly status?: TokenAudienceStatus;
}

/** Every resource the policy engine is built from: the callers' and operators' policies and the owners' contracts. */
export type GovernedResource = AnyTokenPolicy | TokenAudience;
