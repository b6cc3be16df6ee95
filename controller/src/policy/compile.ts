// compilePolicy: a TokenPolicy or ClusterTokenPolicy to a compiled policy, or every problem with its field path.
//
// The CRD schema checks shapes; this adds what it cannot: CEL type-checking against the declared variables,
// claim name rules, default scopes within allowed scopes, unique names. Input may come straight from YAML,
// so shapes are re-checked defensively rather than trusted.

import { KIND_CLUSTER_TOKEN_POLICY, KIND_TOKEN_POLICY } from "../../../api/constants.ts";
import type {
  AnyTokenPolicy,
  LabelSelector,
  PolicyDelegation,
  PolicyGuardrails,
  PolicyRef,
  PolicySpecCommon,
  PolicySubjects,
} from "../../../api/token-policy.ts";
import { compileExpression, type ExpressionCompiler } from "./cel/expression.ts";
import { audienceSpellingProblem } from "./audience/canonical.ts";
import { compileOwnershipRule, type CompiledOwnershipRule } from "./audience/ownership.ts";
import { claimNameProblem, isClusterReservedClaim } from "./claim-names.ts";
import { formatRef } from "./refs.ts";
import { auditedCondition, readAudited } from "./enforcement.ts";
import type {
  CompileError,
  CompileResult,
  CompiledClaim,
  CompiledCondition,
  CompiledGrants,
  CompiledGuardrails,
  CompiledSubjects,
  RejectedPolicy,
} from "./compiled-policy.ts";
import { DEFAULT_PRIORITY, DEFAULT_TTL_SECONDS } from "./defaults.ts";
import { EVERYTHING, compileSelector, type CompiledSelector } from "./selector.ts";

export interface CompileOptions {
  /** Compiles one CEL expression; a memoizing one (memoizedExpressions) lets policies share identical programs. */
  readonly expressions?: ExpressionCompiler;
}

export function compilePolicy(obj: AnyTokenPolicy, options: CompileOptions = {}): CompileResult {
  const expressions = options.expressions ?? compileExpression;
  const errors: CompileError[] = [];
  const ref = refOf(obj);
  const hasGuardrails =
    obj.kind === "ClusterTokenPolicy" &&
    typeof obj.spec === "object" &&
    (obj.spec.guardrails !== undefined || obj.spec.audienceOwnership !== undefined);
  // Read before anything can fail, so a broken audited policy stays as invisible to decisions as a working one.
  const audited = typeof obj.spec === "object" && readAudited((obj.spec as { enforcement?: unknown }).enforcement, "spec.enforcement", errors);
  const kind: unknown = obj.kind;
  if (kind !== KIND_TOKEN_POLICY && kind !== KIND_CLUSTER_TOKEN_POLICY) {
    return { ok: false, ref, hasGuardrails, audited, errors: [{ path: "kind", message: `unknown kind '${String(kind)}'` }] };
  }
  if (typeof obj.metadata.name !== "string" || obj.metadata.name === "") {
    errors.push({ path: "metadata.name", message: "name is required" });
  }
  if (obj.kind === "TokenPolicy" && (obj.metadata.namespace ?? "") === "") {
    errors.push({ path: "metadata.namespace", message: "a TokenPolicy lives in a namespace" });
  }
  if (obj.kind === "ClusterTokenPolicy" && obj.metadata.namespace !== undefined) {
    errors.push({ path: "metadata.namespace", message: "a ClusterTokenPolicy is cluster-scoped" });
  }
  const spec = obj.spec as Partial<PolicySpecCommon> & { owner?: { team?: unknown } } | undefined;
  if (spec === undefined || typeof spec !== "object") {
    return { ok: false, ref, hasGuardrails, audited, errors: [...errors, { path: "spec", message: "spec is required" }] };
  }
  if (typeof spec.owner?.team !== "string" || spec.owner.team === "") {
    errors.push({ path: "spec.owner.team", message: "every policy names the team that owns it" });
  }
  const priority = spec.priority ?? DEFAULT_PRIORITY;
  if (!Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) {
    errors.push({ path: "spec.priority", message: `priority must be a whole number from 0 to ${MAX_PRIORITY}` });
  }
  let revokeBefore: Date | undefined;
  if (spec.revokeBefore !== undefined) {
    revokeBefore = new Date(spec.revokeBefore);
    if (!RFC3339.test(spec.revokeBefore) || Number.isNaN(revokeBefore.getTime())) {
      errors.push({ path: "spec.revokeBefore", message: `'${spec.revokeBefore}' is not an RFC 3339 time` });
    }
  }

  let grants: CompiledGrants | undefined;
  let guardrails: CompiledGuardrails | undefined;
  let ownership: CompiledOwnershipRule[] | undefined;
  let allowTokenPolicies: boolean | undefined;
  if (obj.kind === "TokenPolicy") {
    const subjects = compileSubjects(obj.spec.subjects, undefined, errors);
    grants = compileGrants(obj.spec, subjects, errors, expressions, ref);
    (obj.spec.claims ?? []).forEach((claim, i) => {
      if (isClusterReservedClaim(claim.name)) {
        errors.push({
          path: `spec.claims[${i}].name`,
          message: `claim '${claim.name}' is reserved for ClusterTokenPolicies`,
        });
      }
    });
  } else {
    const { subjects, guardrails: rails, audienceOwnership } = obj.spec;
    if (subjects === undefined && rails === undefined && audienceOwnership === undefined) {
      errors.push({
        path: "spec",
        message: "a ClusterTokenPolicy needs subjects (to grant), guardrails, audienceOwnership, or a combination",
      });
    }
    if (audienceOwnership !== undefined) {
      if (audited) {
        errors.push({
          path: "spec.enforcement",
          message:
            "audience ownership cannot be audited (it decides who is asked, not what is granted); keep " +
            "spec.audienceOwnership in a ClusterTokenPolicy of its own that is enforced",
        });
      }
      const by = formatRef(ref);
      ownership = audienceOwnership.map((rule, i) => compileOwnershipRule(rule, `spec.audienceOwnership[${i}]`, by, errors));
    }
    if (obj.spec.allowTokenPolicies !== undefined) {
      if (subjects === undefined) {
        errors.push({ path: "spec.allowTokenPolicies", message: "only meaningful with spec.subjects; this policy grants nothing" });
      }
      allowTokenPolicies = obj.spec.allowTokenPolicies;
    }
    if (subjects !== undefined) {
      const namespaceSelector = compileSelectorInto(
        subjects.namespaceSelector,
        "spec.subjects.namespaceSelector",
        errors,
        true,
      );
      grants = compileGrants(obj.spec, compileSubjects(subjects, namespaceSelector, errors), errors, expressions, ref);
    } else {
      checkNoGrantFields(obj.spec, errors);
    }
    if (rails !== undefined) guardrails = compileGuardrails(rails, errors);
  }
  if (errors.length > 0) return { ok: false, ref, errors, hasGuardrails, audited };
  return {
    ok: true,
    policy: {
      ref,
      source: obj,
      priority,
      ...(grants === undefined ? {} : { grants }),
      ...(guardrails === undefined ? {} : { guardrails }),
      ...(ownership === undefined ? {} : { ownership }),
      ...(allowTokenPolicies === undefined ? {} : { allowTokenPolicies }),
      ...(revokeBefore === undefined ? {} : { revokeBefore }),
      ...(audited ? { audited: true as const } : {}),
    },
  };
}

/** The reference decisions and tokens carry; generation 0 when the object has not been stored yet. */
export function refOf(obj: AnyTokenPolicy): PolicyRef {
  return {
    kind: obj.kind,
    ...(obj.kind === "TokenPolicy" && obj.metadata.namespace !== undefined ? { namespace: obj.metadata.namespace } : {}),
    name: obj.metadata.name,
    generation: obj.metadata.generation ?? 0,
  };
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
/** TTL bounds any policy must stay within (as the CRD schema says); guardrails usually set far less. */
const MIN_TTL_SECONDS = 60;
const MAX_TTL_SECONDS = 86_400;
/** Longest delegation chain any policy may allow (as the CRD schema says). */
const MAX_CHAIN_LENGTH = 8;
/** Priority bounds (as the CRD schema says). */
const MAX_PRIORITY = 1000;

function compileSubjects(
  subjects: PolicySubjects | undefined,
  namespaceSelector: CompiledSelector | undefined,
  errors: CompileError[],
): CompiledSubjects {
  if (subjects === undefined) {
    errors.push({ path: "spec.subjects", message: "subjects are required" });
    return {};
  }
  const isCluster = namespaceSelector !== undefined;
  if (!isCluster && subjects.serviceAccounts === undefined && subjects.podSelector === undefined) {
    errors.push({
      path: "spec.subjects",
      message: "name serviceAccounts, a podSelector or both; a TokenPolicy never selects every pod by omission",
    });
  }
  let serviceAccounts: ReadonlySet<string> | undefined;
  if (subjects.serviceAccounts !== undefined) {
    if (subjects.serviceAccounts.length === 0) {
      errors.push({ path: "spec.subjects.serviceAccounts", message: "an empty list selects nobody; omit it instead" });
    }
    serviceAccounts = uniqueStrings(subjects.serviceAccounts, "spec.subjects.serviceAccounts", errors);
  }
  const podSelector =
    subjects.podSelector === undefined
      ? undefined
      : compileSelectorInto(subjects.podSelector, "spec.subjects.podSelector", errors, false);
  return {
    ...(serviceAccounts === undefined ? {} : { serviceAccounts }),
    ...(podSelector === undefined ? {} : { podSelector }),
    ...(namespaceSelector === undefined ? {} : { namespaceSelector }),
  };
}

function compileSelectorInto(
  selector: LabelSelector | undefined,
  path: string,
  errors: CompileError[],
  required: boolean,
): CompiledSelector {
  if (selector === undefined) {
    if (required) errors.push({ path, message: "required; {} selects every namespace" });
    return EVERYTHING;
  }
  const result = compileSelector(selector, path);
  if (!result.ok) {
    errors.push(...result.errors);
    return EVERYTHING;
  }
  return result.selector;
}

function compileGrants(
  spec: Partial<PolicySpecCommon>,
  subjects: CompiledSubjects,
  errors: CompileError[],
  expressions: ExpressionCompiler,
  ref: PolicyRef,
): CompiledGrants {
  if (spec.audiences === undefined || spec.audiences.length === 0) {
    errors.push({ path: "spec.audiences", message: "at least one audience is required" });
  }
  const audiences = uniqueStrings(spec.audiences ?? [], "spec.audiences", errors);
  (spec.audiences ?? []).forEach((audience, i) => {
    if (typeof audience !== "string") return;
    const problem = audienceSpellingProblem(audience);
    if (problem !== undefined) errors.push({ path: `spec.audiences[${i}]`, message: problem });
  });
  const allowedScopes = uniqueStrings(spec.scopes?.allowed ?? [], "spec.scopes.allowed", errors);
  const defaultScopes = [...uniqueStrings(spec.scopes?.default ?? [], "spec.scopes.default", errors)];
  defaultScopes.forEach((scope, i) => {
    if (!allowedScopes.has(scope)) {
      errors.push({ path: `spec.scopes.default[${i}]`, message: `default scope '${scope}' is not in scopes.allowed` });
    }
  });
  for (const [i, scope] of [...allowedScopes].entries()) {
    if (!/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(scope)) {
      errors.push({ path: `spec.scopes.allowed[${i}]`, message: `'${scope}' is not an OAuth scope token (RFC 6749 3.3)` });
    }
  }
  const ttlSeconds = spec.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < MIN_TTL_SECONDS || ttlSeconds > MAX_TTL_SECONDS) {
    errors.push({
      path: "spec.ttlSeconds",
      message: `ttlSeconds must be a whole number from ${MIN_TTL_SECONDS} to ${MAX_TTL_SECONDS}`,
    });
  }
  const claims = compileClaims(spec.claims ?? [], errors, expressions);
  const conditions = compileConditions(spec.conditions ?? [], errors, expressions, ref);
  const actorSelectors = spec.delegation === undefined ? undefined : checkDelegation(spec.delegation, spec.scopes?.allowed ?? [], errors);
  return {
    subjects,
    audiences,
    allowedScopes,
    defaultScopes,
    ttlSeconds,
    claims,
    conditions,
    ...(spec.delegation === undefined ? {} : { delegation: spec.delegation }),
    ...(actorSelectors === undefined || actorSelectors.size === 0 ? {} : { actorSelectors }),
    requireDpop: spec.requireDPoP === true,
  };
}

function compileClaims(claims: NonNullable<PolicySpecCommon["claims"]>, errors: CompileError[], expressions: ExpressionCompiler): CompiledClaim[] {
  const out: CompiledClaim[] = [];
  const seen = new Set<string>();
  claims.forEach((claim, i) => {
    const path = `spec.claims[${i}]`;
    const problem = claimNameProblem(claim.name);
    if (problem !== undefined) errors.push({ path: `${path}.name`, message: problem });
    if (seen.has(claim.name)) errors.push({ path: `${path}.name`, message: `claim '${claim.name}' is set twice` });
    seen.add(claim.name);
    const compiled = expressions(claim.expression, "claim");
    if (!compiled.ok) {
      errors.push({ path: `${path}.expression`, message: compiled.message });
      return;
    }
    out.push({ name: claim.name, path, expression: compiled.expression });
  });
  return out;
}

function compileConditions(
  conditions: NonNullable<PolicySpecCommon["conditions"]>,
  errors: CompileError[],
  expressions: ExpressionCompiler,
  ref: PolicyRef,
): CompiledCondition[] {
  const out: CompiledCondition[] = [];
  const seen = new Set<string>();
  conditions.forEach((condition, i) => {
    const path = `spec.conditions[${i}]`;
    if (seen.has(condition.name)) {
      errors.push({ path: `${path}.name`, message: `condition '${condition.name}' is named twice` });
    }
    seen.add(condition.name);
    if (condition.message.trim() === "") {
      errors.push({ path: `${path}.message`, message: "say what the caller can do when this condition fails" });
    }
    const audited = readAudited(condition.enforcement, `${path}.enforcement`, errors);
    const compiled = expressions(condition.expression, "condition");
    if (!compiled.ok) {
      errors.push({ path: `${path}.expression`, message: compiled.message });
      return;
    }
    out.push({
      name: condition.name,
      message: condition.message,
      path,
      expression: compiled.expression,
      ...(audited ? { audit: auditedCondition(ref, `spec.conditions[${condition.name}]`) } : {}),
    });
  });
  return out;
}

function checkDelegation(delegation: PolicyDelegation, allowedScopes: readonly string[], errors: CompileError[]): Map<number, CompiledSelector> {
  const selectors = new Map<number, CompiledSelector>();
  (delegation.scopes ?? []).forEach((scope, i) => {
    if (!allowedScopes.includes(scope)) {
      errors.push({ path: `spec.delegation.scopes[${i}]`, message: `scope '${scope}' is not among scopes.allowed; an actor can be given only what the policy grants` });
    }
  });
  if (delegation.actors.length === 0) {
    errors.push({ path: "spec.delegation.actors", message: "name at least one actor, or omit delegation" });
  }
  delegation.actors.forEach((actor, i) => {
    const set = [actor.serviceAccount, actor.subject, actor.serviceAccounts].filter((x) => x !== undefined).length;
    if (set !== 1) {
      errors.push({ path: `spec.delegation.actors[${i}]`, message: "set exactly one of serviceAccount, serviceAccounts and subject" });
    }
    if (actor.serviceAccounts !== undefined) {
      const compiled = compileSelector(actor.serviceAccounts.namespaceSelector, `spec.delegation.actors[${i}].serviceAccounts.namespaceSelector`);
      if (compiled.ok) selectors.set(i, compiled.selector);
      else errors.push(...compiled.errors);
    }
  });
  const length = delegation.maxChainLength;
  if (!Number.isInteger(length) || length < 1 || length > MAX_CHAIN_LENGTH) {
    errors.push({
      path: "spec.delegation.maxChainLength",
      message: `maxChainLength must be a whole number from 1 to ${MAX_CHAIN_LENGTH}`,
    });
  }
  return selectors;
}

/** A guardrails-only ClusterTokenPolicy must not look as if it granted something. */
function checkNoGrantFields(spec: Partial<PolicySpecCommon>, errors: CompileError[]): void {
  for (const field of ["audiences", "scopes", "ttlSeconds", "claims", "conditions", "delegation", "requireDPoP"] as const) {
    if (spec[field] !== undefined) {
      errors.push({ path: `spec.${field}`, message: "only meaningful with spec.subjects; this policy grants nothing" });
    }
  }
}

function compileGuardrails(rails: PolicyGuardrails, errors: CompileError[]): CompiledGuardrails {
  const namespaceSelector =
    rails.namespaceSelector === undefined
      ? EVERYTHING
      : compileSelectorInto(rails.namespaceSelector, "spec.guardrails.namespaceSelector", errors, false);
  for (const field of ["maxTtlSeconds", "maxDelegationChainLength"] as const) {
    const value = rails[field];
    if (value !== undefined && (!Number.isInteger(value) || value < (field === "maxTtlSeconds" ? 1 : 0))) {
      errors.push({ path: `spec.guardrails.${field}`, message: `${field} must be a whole number` });
    }
  }
  for (const field of ["allowedAudiences", "reservedAudiences", "allowedScopes", "allowedClaims", "reservedClaims"] as const) {
    uniqueStrings(rails[field] ?? [], `spec.guardrails.${field}`, errors);
  }
  for (const field of ["allowedAudiences", "reservedAudiences"] as const) {
    (rails[field] ?? []).forEach((audience, i) => {
      const problem = typeof audience === "string" ? audienceSpellingProblem(audience) : undefined;
      if (problem !== undefined) errors.push({ path: `spec.guardrails.${field}[${i}]`, message: problem });
    });
  }
  (rails.allowedClaims ?? []).forEach((name, i) => {
    const problem = claimNameProblem(name);
    if (problem !== undefined) errors.push({ path: `spec.guardrails.allowedClaims[${i}]`, message: problem });
  });
  const reserved = new Set(rails.reservedAudiences ?? []);
  (rails.allowedAudiences ?? []).forEach((audience, i) => {
    if (reserved.has(audience)) {
      errors.push({
        path: `spec.guardrails.allowedAudiences[${i}]`,
        message: `audience '${audience}' is both allowed and reserved`,
      });
    }
  });
  return { namespaceSelector, spec: rails };
}

function uniqueStrings(values: readonly string[], path: string, errors: CompileError[]): ReadonlySet<string> {
  const seen = new Set<string>();
  values.forEach((value, i) => {
    if (typeof value !== "string" || value === "") {
      errors.push({ path: `${path}[${i}]`, message: "must be a non-empty string" });
    } else if (seen.has(value)) {
      errors.push({ path: `${path}[${i}]`, message: `'${value}' is listed twice` });
    }
    seen.add(value);
  });
  return seen;
}

/** What a PolicySet keeps of a policy that failed to compile (with hasGuardrails, so unknown limits fail closed). */
export function rejectionOf(failure: Extract<CompileResult, { ok: false }>): RejectedPolicy {
  return { ref: failure.ref, errors: failure.errors, hasGuardrails: failure.hasGuardrails, ...(failure.audited ? { audited: true } : {}) };
}
