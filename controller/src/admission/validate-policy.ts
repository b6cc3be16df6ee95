// Validating webhook for TokenPolicy, ClusterTokenPolicy and TokenAudience: what the CRD schema cannot check, with field paths.
import type { GovernedResource, TokenAudience } from "../../../api/token-audience.ts";
import type { AnyTokenPolicy } from "../../../api/token-policy.ts";
import { API_GROUP, KIND_CLUSTER_TOKEN_POLICY, KIND_TOKEN_AUDIENCE, KIND_TOKEN_POLICY } from "../../../api/constants.ts";
import { isAdmissionError } from "./errors.ts";
import { findConflicts } from "./policy-conflicts.ts";
import { parsePolicyDocument, policyName } from "./policy-document.ts";
import type { AdmissionOutcome, AdmissionRequest } from "./review.ts";

/** One problem in a policy, located by its field path (e.g. spec.claims[0].expression). */
export interface FieldProblem {
  readonly path: string;
  readonly message: string;
  /** "narrow": the engine silently limits the grant (a warning); "deny" (default): the policy is refused. */
  readonly effect?: "deny" | "narrow";
}

/** Compiles the policy's or contract's CEL and reports every error (the engine's compilePolicy / compileContract). */
export interface PolicyCompiler {
  compile(resource: GovernedResource): readonly FieldProblem[];
}

/** Checks a policy against the guardrails of the ClusterTokenPolicies in `current` (the engine's validateAgainstGuardrails). */
export interface GuardrailChecker {
  violations(policy: AnyTokenPolicy, current: readonly AnyTokenPolicy[]): readonly FieldProblem[];
}

/** The policies in the cluster now (the controller's informer cache). */
export interface PolicySource {
  list(): readonly AnyTokenPolicy[] | Promise<readonly AnyTokenPolicy[]>;
}

export interface PolicyWebhookOptions {
  readonly compiler: PolicyCompiler;
  readonly guardrails: GuardrailChecker;
  readonly source: PolicySource;
}

const MAX_NAMED = 5;

function ownerProblems(policy: AnyTokenPolicy): FieldProblem[] {
  const owner = policy.spec.owner as { team?: unknown } | undefined;
  if (owner === undefined) return [{ path: "spec.owner", message: "every policy needs an owner: set spec.owner.team" }];
  if (typeof owner.team !== "string" || owner.team.trim() === "") {
    return [{ path: "spec.owner.team", message: "must name the team that answers for this policy" }];
  }
  return [];
}

function format(problems: readonly FieldProblem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join("; ");
}

function sameIdentity(a: AnyTokenPolicy, b: AnyTokenPolicy): boolean {
  return a.kind === b.kind && a.metadata.name === b.metadata.name && a.metadata.namespace === b.metadata.namespace;
}

function denials(problems: readonly FieldProblem[]): number {
  return problems.filter((p) => p.effect !== "narrow").length;
}

/** For a new or changed ClusterTokenPolicy: existing TokenPolicies its guardrails would now reject. */
function tightenedWarnings(policy: AnyTokenPolicy, current: readonly AnyTokenPolicy[], guardrails: GuardrailChecker): string[] {
  if (policy.kind !== KIND_CLUSTER_TOKEN_POLICY || policy.spec.guardrails === undefined) return [];
  const next = [...current.filter((p) => !sameIdentity(p, policy)), policy];
  const violating = current.filter(
    (p) => p.kind === KIND_TOKEN_POLICY && denials(guardrails.violations(p, next)) > denials(guardrails.violations(p, current)),
  );
  if (violating.length === 0) return [];
  const named = violating.slice(0, MAX_NAMED).map(policyName).join(", ");
  const more = violating.length > MAX_NAMED ? ` and ${violating.length - MAX_NAMED} more` : "";
  return [`these guardrails make ${named}${more} violate them; those policies will stop being accepted`];
}

/**
 * Validates a policy CREATE or UPDATE. Denies on owner, CEL, guardrail problems and on a conflict the change
 * introduces; a conflict the stored object already had is only a warning, so it can still be edited (and fixed).
 */
export async function validatePolicy(request: AdmissionRequest, options: PolicyWebhookOptions): Promise<AdmissionOutcome> {
  if (request.kind.group !== API_GROUP || (request.operation !== "CREATE" && request.operation !== "UPDATE")) {
    return { allowed: true };
  }
  if (request.kind.kind === KIND_TOKEN_AUDIENCE) return validateContract(request, options.compiler);
  let policy: AnyTokenPolicy;
  try {
    policy = parsePolicyDocument(request.object);
  } catch (error) {
    if (!isAdmissionError(error)) throw error;
    return { allowed: false, code: 422, reason: "Invalid", message: `invalid policy: ${error.message}` };
  }
  const current = await options.source.list();
  const others = current.filter((p) => !sameIdentity(p, policy));
  const guardrailFindings = policy.kind === KIND_TOKEN_POLICY ? options.guardrails.violations(policy, others) : [];
  const problems = [
    ...ownerProblems(policy),
    ...options.compiler.compile(policy),
    ...guardrailFindings.filter((p) => p.effect !== "narrow"),
  ];

  const warnings: string[] = guardrailFindings.filter((p) => p.effect === "narrow").map((p) => `${p.path}: ${p.message}`);
  const previousConflicts = new Set<string>();
  if (request.oldObject !== undefined) {
    try {
      for (const c of findConflicts(parsePolicyDocument(request.oldObject), others)) previousConflicts.add(policyName(c.other));
    } catch {
      // An old object out of shape has no conflicts worth keeping.
    }
  }
  for (const conflict of findConflicts(policy, others)) {
    const name = policyName(conflict.other);
    const message =
      `ties with ${name} (same priority ${policy.spec.priority ?? 0}, a subject both select, audiences ` +
      `${conflict.audiences.join(", ")}): requests matching both would be refused; set a different spec.priority ` +
      "or make the subjects disjoint";
    if (previousConflicts.has(name)) warnings.push(`spec.priority: ${message}`);
    else problems.push({ path: "spec.priority", message });
  }
  warnings.push(...tightenedWarnings(policy, others, options.guardrails));

  if (problems.length > 0) {
    return {
      allowed: false,
      code: 422,
      reason: "Invalid",
      message: `${policyName(policy)} is invalid: ${format(problems)}`,
      warnings,
    };
  }
  return { allowed: true, warnings };
}

/**
 * A TokenAudience is refused when it does not compile (canonical audience, defined scopes, CEL). Whether its
 * namespace owns the audience is not an admission question: an owner may publish before the operator assigns the
 * audience, and the contract's Owner condition says where it stands.
 */
function validateContract(request: AdmissionRequest, compiler: PolicyCompiler): AdmissionOutcome {
  const value = request.object;
  const spec = typeof value === "object" && value !== null ? (value as { spec?: unknown }).spec : undefined;
  const metadata = typeof value === "object" && value !== null ? (value as { metadata?: { name?: unknown; namespace?: unknown } }).metadata : undefined;
  if (typeof spec !== "object" || spec === null || typeof metadata?.name !== "string") {
    return { allowed: false, code: 422, reason: "Invalid", message: "invalid TokenAudience: metadata.name and spec are required" };
  }
  const contract = value as unknown as TokenAudience;
  const problems = compiler.compile(contract);
  if (problems.length === 0) return { allowed: true };
  const name = `${KIND_TOKEN_AUDIENCE} ${typeof metadata.namespace === "string" ? metadata.namespace : ""}/${metadata.name}`;
  return { allowed: false, code: 422, reason: "Invalid", message: `${name} is invalid: ${format(problems)}` };
}
