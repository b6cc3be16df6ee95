// What compilePolicy produces: a policy whose selectors and expressions are ready to evaluate, or its errors.

import type { AnyTokenPolicy, PolicyDelegation, PolicyGuardrails, PolicyRef } from "../../../api/token-policy.ts";
import type { CompiledExpression } from "./cel/expression.ts";
import type { CompileError } from "./compile-error.ts";
import type { AuditedCondition } from "./enforcement.ts";
import type { CompiledSelector } from "./selector.ts";
import type { CompiledOwnershipRule } from "./audience/ownership.ts";

export type { CompileError } from "./compile-error.ts";

export interface CompiledClaim {
  readonly name: string;
  readonly path: string;
  readonly expression: CompiledExpression;
}

export interface CompiledCondition {
  readonly name: string;
  readonly message: string;
  readonly path: string;
  readonly expression: CompiledExpression;
  /** Set when the condition's enforcement is Audit: it is evaluated and recorded, and denies nothing. */
  readonly audit?: AuditedCondition;
}

/** Who a granting policy selects. Every part present must match. */
export interface CompiledSubjects {
  /** Service account names; undefined = any. */
  readonly serviceAccounts?: ReadonlySet<string>;
  /** Pod label selector; undefined = any pod. */
  readonly podSelector?: CompiledSelector;
  /** Namespace label selector (ClusterTokenPolicy only); undefined = the policy's own namespace only. */
  readonly namespaceSelector?: CompiledSelector;
}

/** The granting half of a policy (absent on a guardrails-only ClusterTokenPolicy). */
export interface CompiledGrants {
  readonly subjects: CompiledSubjects;
  readonly audiences: ReadonlySet<string>;
  readonly allowedScopes: ReadonlySet<string>;
  readonly defaultScopes: readonly string[];
  readonly ttlSeconds: number;
  readonly claims: readonly CompiledClaim[];
  readonly conditions: readonly CompiledCondition[];
  readonly delegation?: PolicyDelegation;
  /** The compiled namespaceSelector of each delegation actor that sets serviceAccounts, by the actor's index. */
  readonly actorSelectors?: ReadonlyMap<number, CompiledSelector>;
  /** Tokens granted under this policy must be DPoP-bound (spec.requireDPoP). */
  readonly requireDpop: boolean;
}

/** Guardrails with their namespace selector compiled. */
export interface CompiledGuardrails {
  readonly namespaceSelector: CompiledSelector;
  readonly spec: PolicyGuardrails;
}

export interface CompiledPolicy {
  readonly ref: PolicyRef;
  /** The resource as it was compiled (for explain and status). */
  readonly source: AnyTokenPolicy;
  /** Precedence within its kind: higher first (default 0). */
  readonly priority: number;
  readonly grants?: CompiledGrants;
  readonly guardrails?: CompiledGuardrails;
  /** Audience ownership rules (ClusterTokenPolicy only). */
  readonly ownership?: readonly CompiledOwnershipRule[];
  /**
   * ClusterTokenPolicy only: TokenPolicies may also grant this policy's audiences in the namespaces it selects.
   * False (the default) makes them exclusive to it there.
   */
  readonly allowTokenPolicies?: boolean;
  /** Tokens issued under this policy before this instant are revoked. */
  readonly revokeBefore?: Date;
  /**
   * spec.enforcement is Audit: decisions are made as if the policy (grants and guardrails) did not exist, and record
   * what it would have decided.
   */
  readonly audited?: true;
}

export type CompileResult =
  | { readonly ok: true; readonly policy: CompiledPolicy }
  | {
      readonly ok: false;
      readonly ref: PolicyRef;
      readonly errors: readonly CompileError[];
      /**
       * The resource sets guardrails or audience ownership (a ClusterTokenPolicy with spec.guardrails or
       * spec.audienceOwnership), which are now unknown.
       */
      readonly hasGuardrails: boolean;
      /** spec.enforcement says Audit: the broken policy is as invisible to decisions as a working audited one. */
      readonly audited: boolean;
    };

/** A policy that failed to compile, kept in a PolicySet so denials can say why it did not apply. */
export interface RejectedPolicy {
  readonly ref: PolicyRef;
  readonly errors: readonly CompileError[];
  /**
   * Pass CompileResult.hasGuardrails: while a ClusterTokenPolicy's guardrails cannot be compiled, no TokenPolicy
   * grants anything (fail closed), since the limits it would have to respect are unknown.
   */
  readonly hasGuardrails?: boolean;
  /** Pass CompileResult.audited: an audited policy that does not compile fails nothing closed. */
  readonly audited?: boolean;
}
