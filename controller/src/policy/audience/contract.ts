// An audience owner's contract (TokenAudience), compiled: the scopes the audience defines and who may hold which.

import { KIND_TOKEN_AUDIENCE } from "../../../../api/constants.ts";
import type { PolicyOwner } from "../../../../api/token-policy.ts";
import type { AudienceCaller, TokenAudience } from "../../../../api/token-audience.ts";
import { compileExpression, type ExpressionCompiler } from "../cel/expression.ts";
import type { CompileError } from "../compile-error.ts";
import type { CompiledCondition } from "../compiled-policy.ts";
import { claimNameProblem } from "../claim-names.ts";
import { compileSelector, type CompiledSelector } from "../selector.ts";
import { audienceSpellingProblem } from "./canonical.ts";
import { auditedCondition, readAudited } from "../enforcement.ts";

/** A contract as decisions name it. */
export interface ContractRef {
  readonly kind: "TokenAudience";
  readonly namespace: string;
  readonly name: string;
  readonly generation: number;
}

export interface CompiledCaller {
  readonly name: string;
  readonly path: string;
  /** "namespace/name" of each admitted service account; undefined = any. */
  readonly serviceAccounts?: ReadonlySet<string>;
  readonly namespaceSelector?: CompiledSelector;
  readonly conditions: readonly CompiledCondition[];
  readonly scopes: ReadonlySet<string>;
}

export interface CompiledContract {
  readonly ref: ContractRef;
  readonly audience: string;
  readonly owner: PolicyOwner;
  /** Scope name -> description. */
  readonly scopes: ReadonlyMap<string, string>;
  readonly callers: readonly CompiledCaller[];
  readonly maxTtlSeconds?: number;
  readonly requiredClaims: readonly string[];
  /** Tokens for this audience must be DPoP-bound (spec.requireDPoP). */
  readonly requireDpop: boolean;
  /** What the owner accepts from delegated callers (spec.delegation); absent leaves it to the callers' policies. */
  readonly delegation?: { readonly maxChainLength: number; readonly scopes?: ReadonlySet<string> };
  /** spec.enforcement is Audit: the audience is decided as if the contract did not exist; what it would decide is recorded. */
  readonly audited?: true;
}

export type ContractCompileResult =
  | { readonly ok: true; readonly contract: CompiledContract }
  | { readonly ok: false; readonly ref: ContractRef; readonly errors: readonly CompileError[] };

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const MIN_TTL_SECONDS = 60;
const MAX_TTL_SECONDS = 86_400;

export function contractRefOf(obj: TokenAudience): ContractRef {
  return {
    kind: KIND_TOKEN_AUDIENCE,
    namespace: obj.metadata.namespace ?? "",
    name: obj.metadata.name,
    generation: obj.metadata.generation ?? 0,
  };
}

export function compileContract(obj: TokenAudience, expressions: ExpressionCompiler = compileExpression): ContractCompileResult {
  const ref = contractRefOf(obj);
  const errors: CompileError[] = [];
  // Input may come straight from YAML (tessera check) or a webhook bypass: shapes are re-checked, not trusted.
  const kind: unknown = obj.kind;
  if (kind !== KIND_TOKEN_AUDIENCE) errors.push({ path: "kind", message: `expected ${KIND_TOKEN_AUDIENCE}` });
  if ((obj.metadata.namespace ?? "") === "") errors.push({ path: "metadata.namespace", message: "a TokenAudience lives in its owner's namespace" });
  const spec = obj.spec as Partial<TokenAudience["spec"]> | undefined;
  if (spec === undefined || typeof spec !== "object") return { ok: false, ref, errors: [...errors, { path: "spec", message: "spec is required" }] };
  const audited = readAudited(spec.enforcement, "spec.enforcement", errors);
  if (typeof spec.audience !== "string") {
    errors.push({ path: "spec.audience", message: "the audience is required" });
  } else {
    const problem = audienceSpellingProblem(spec.audience);
    if (problem !== undefined) errors.push({ path: "spec.audience", message: problem });
  }
  if (typeof spec.owner?.team !== "string" || spec.owner.team === "") {
    errors.push({ path: "spec.owner.team", message: "every contract names the team that owns the audience" });
  }
  const scopes = new Map<string, string>();
  (spec.scopes ?? []).forEach((scope, i) => {
    const at = `spec.scopes[${i}]`;
    const name: unknown = scope.name;
    if (typeof name !== "string" || !SCOPE_TOKEN.test(name)) {
      errors.push({ path: `${at}.name`, message: `'${String(name)}' is not an OAuth scope token (RFC 6749 3.3)` });
    } else if (scopes.has(scope.name)) {
      errors.push({ path: `${at}.name`, message: `scope '${scope.name}' is defined twice` });
    }
    if (typeof scope.description !== "string" || scope.description.trim() === "") {
      errors.push({ path: `${at}.description`, message: "say what a holder of this scope may do" });
    }
    scopes.set(scope.name, scope.description);
  });
  if (!Array.isArray(spec.callers)) errors.push({ path: "spec.callers", message: "list the callers the audience admits (may be empty)" });
  const seen = new Set<string>();
  const callers = (spec.callers ?? []).map((caller, i) => {
    if (seen.has(caller.name)) errors.push({ path: `spec.callers[${i}].name`, message: `caller '${caller.name}' is named twice` });
    seen.add(caller.name);
    return compileCaller(caller, `spec.callers[${i}]`, scopes, errors, expressions, ref);
  });
  const ttl = spec.maxTtlSeconds;
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < MIN_TTL_SECONDS || ttl > MAX_TTL_SECONDS)) {
    errors.push({ path: "spec.maxTtlSeconds", message: `maxTtlSeconds must be a whole number from ${MIN_TTL_SECONDS} to ${MAX_TTL_SECONDS}` });
  }
  const requiredClaims = spec.requiredClaims ?? [];
  requiredClaims.forEach((name, i) => {
    const problem = claimNameProblem(name);
    if (problem !== undefined) errors.push({ path: `spec.requiredClaims[${i}]`, message: problem });
  });
  const requireDpop: unknown = spec.requireDPoP;
  if (requireDpop !== undefined && typeof requireDpop !== "boolean") errors.push({ path: "spec.requireDPoP", message: "requireDPoP is true or false" });
  const delegation = compileDelegation(spec.delegation, scopes, errors);
  if (errors.length > 0 || spec.audience === undefined || spec.owner === undefined) return { ok: false, ref, errors };
  return {
    ok: true,
    contract: {
      ref,
      audience: spec.audience,
      owner: spec.owner,
      scopes,
      callers,
      ...(ttl === undefined ? {} : { maxTtlSeconds: ttl }),
      requiredClaims,
      requireDpop: requireDpop === true,
      ...(delegation === undefined ? {} : { delegation }),
      ...(audited ? { audited: true as const } : {}),
    },
  };
}

function compileDelegation(
  delegation: TokenAudience["spec"]["delegation"],
  defined: ReadonlyMap<string, string>,
  errors: CompileError[],
): CompiledContract["delegation"] {
  if (delegation === undefined) return undefined;
  const max: unknown = delegation.maxChainLength;
  if (typeof max !== "number" || !Number.isInteger(max) || max < 0 || max > 8) {
    errors.push({ path: "spec.delegation.maxChainLength", message: "maxChainLength must be a whole number from 0 (no delegated tokens) to 8" });
  }
  (delegation.scopes ?? []).forEach((scope, i) => {
    if (!defined.has(scope)) errors.push({ path: `spec.delegation.scopes[${i}]`, message: `scope '${scope}' is not defined in spec.scopes` });
  });
  return {
    maxChainLength: typeof max === "number" ? max : 0,
    ...(delegation.scopes === undefined ? {} : { scopes: new Set(delegation.scopes) }),
  };
}

function compileCaller(
  caller: AudienceCaller,
  path: string,
  defined: ReadonlyMap<string, string>,
  errors: CompileError[],
  expressions: ExpressionCompiler,
  ref: ContractRef,
): CompiledCaller {
  if (typeof caller.name !== "string" || caller.name === "") errors.push({ path: `${path}.name`, message: "name the caller entry" });
  if (caller.serviceAccounts === undefined && caller.namespaceSelector === undefined) {
    errors.push({ path, message: "name serviceAccounts, a namespaceSelector or both; `namespaceSelector: {}` admits every namespace" });
  }
  let serviceAccounts: Set<string> | undefined;
  if (caller.serviceAccounts !== undefined) {
    if (caller.serviceAccounts.length === 0) errors.push({ path: `${path}.serviceAccounts`, message: "an empty list admits nobody; omit it instead" });
    serviceAccounts = new Set(caller.serviceAccounts.map((sa) => `${sa.namespace}/${sa.name}`));
  }
  let namespaceSelector: CompiledSelector | undefined;
  if (caller.namespaceSelector !== undefined) {
    const compiled = compileSelector(caller.namespaceSelector, `${path}.namespaceSelector`);
    if (compiled.ok) namespaceSelector = compiled.selector;
    else errors.push(...compiled.errors);
  }
  const conditions: CompiledCondition[] = [];
  (caller.conditions ?? []).forEach((condition, i) => {
    const at = `${path}.conditions[${i}]`;
    if (typeof condition.message !== "string" || condition.message.trim() === "") {
      errors.push({ path: `${at}.message`, message: "say what the caller can do when this condition fails" });
    }
    const audited = readAudited(condition.enforcement, `${at}.enforcement`, errors);
    const compiled = expressions(condition.expression, "condition");
    if (!compiled.ok) errors.push({ path: `${at}.expression`, message: compiled.message });
    else {
      conditions.push({
        name: condition.name,
        message: condition.message,
        path: at,
        expression: compiled.expression,
        ...(audited ? { audit: auditedCondition(ref, `spec.callers[${caller.name}].conditions[${condition.name}]`) } : {}),
      });
    }
  });
  const scopes = new Set<string>();
  const listed: unknown = caller.scopes;
  (Array.isArray(listed) ? (listed as readonly string[]) : []).forEach((scope, i) => {
    if (!defined.has(scope)) {
      errors.push({ path: `${path}.scopes[${i}]`, message: `scope '${scope}' is not defined in spec.scopes` });
    }
    scopes.add(scope);
  });
  return {
    name: caller.name,
    path,
    ...(serviceAccounts === undefined ? {} : { serviceAccounts }),
    ...(namespaceSelector === undefined ? {} : { namespaceSelector }),
    conditions,
    scopes,
  };
}
