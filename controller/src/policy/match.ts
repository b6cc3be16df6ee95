// match: which policy applies to a subject and request, by a fixed precedence, with conflicts detected.
//
// Precedence (documented in docs/policy.md):
//   1. TokenPolicies of the subject's namespace, then ClusterTokenPolicies: the team's own policy is the most
//      specific statement about its workloads; cluster policies are the fallback.
//   2. Within a kind, higher spec.priority first, then name (alphabetical), so the order never depends on
//      the order the controller happened to see the objects in.
// The first candidate that selects the subject AND allows every requested audience is the policy. Another
// candidate of the same kind and priority that also does is a conflict: neither is chosen, because which one
// the authors meant cannot be told. A TokenPolicy is not a candidate for an audience the operator keeps for
// ClusterTokenPolicies (owned by the cluster, or granted by a ClusterTokenPolicy without allowTokenPolicies). Conditions are not part of matching: a failing condition denies, it
// never falls through to a lower policy.

import type { CompiledPolicy, RejectedPolicy } from "./compiled-policy.ts";
import { formatRef } from "./refs.ts";
import type { AsEnforced } from "./enforcement.ts";
import type { PolicyEvaluation, Subject, TokenRequest } from "./types.ts";

export type MatchResult =
  | { readonly outcome: "matched"; readonly policy: CompiledPolicy; readonly evaluations: readonly PolicyEvaluation[] }
  | {
      readonly outcome: "conflict";
      readonly policies: readonly [CompiledPolicy, CompiledPolicy];
      readonly evaluations: readonly PolicyEvaluation[];
    }
  | {
      /** Some policy selects the subject, none allows every requested audience. */
      readonly outcome: "audience-not-allowed";
      readonly selecting: readonly CompiledPolicy[];
      /** Set when a selecting TokenPolicy was passed over for an audience the operator keeps (why, for the message). */
      readonly exclusion?: string;
      readonly evaluations: readonly PolicyEvaluation[];
    }
  | {
      readonly outcome: "no-match";
      /** Policies that failed to compile and might have applied. */
      readonly rejected: readonly RejectedPolicy[];
      readonly evaluations: readonly PolicyEvaluation[];
    };

/** Does the policy's subjects part select this subject? */
export function selects(policy: CompiledPolicy, subject: Subject): boolean {
  const subjects = policy.grants?.subjects;
  if (subjects === undefined) return false;
  // A service account lives in its pod's namespace; anything else is a malformed subject.
  if (subject.serviceAccount.namespace !== subject.namespace.name) return false;
  if (policy.ref.kind === "TokenPolicy" && policy.ref.namespace !== subject.namespace.name) return false;
  if (policy.ref.kind === "ClusterTokenPolicy") {
    if (subjects.namespaceSelector?.matches(subject.namespace.labels) !== true) return false;
  }
  if (subjects.serviceAccounts !== undefined && !subjects.serviceAccounts.has(subject.serviceAccount.name)) {
    return false;
  }
  return subjects.podSelector === undefined || subjects.podSelector.matches(subject.pod.labels);
}

/** Requested audiences the policy does not allow. */
export function disallowedAudiences(policy: CompiledPolicy, request: TokenRequest): readonly string[] {
  const allowed = policy.grants?.audiences;
  return request.audiences.filter((audience) => allowed?.has(audience) !== true);
}

/** What matching reads of a PolicySet (which satisfies it): the candidates of one namespace, in precedence order. */
export interface MatchCandidates {
  /** Enforced candidates, and the audited one named by asEnforced (enforcement.ts). */
  candidates(namespace: string, asEnforced?: AsEnforced): readonly CompiledPolicy[];
  rejected(namespace: string): readonly RejectedPolicy[];
  /** Why TokenPolicies may not grant this audience in a namespace with these labels (operator exclusivity). */
  tokenPolicyExclusion(audience: string, namespaceLabels: Readonly<Record<string, string>>, asEnforced?: AsEnforced): string | undefined;
}

export function match(policies: MatchCandidates, subject: Subject, request: TokenRequest, asEnforced?: AsEnforced): MatchResult {
  const evaluations: PolicyEvaluation[] = [];
  const selecting: CompiledPolicy[] = [];
  let chosen: CompiledPolicy | undefined;
  let rival: CompiledPolicy | undefined;
  let exclusion: string | undefined;
  for (const policy of policies.candidates(subject.namespace.name, asEnforced)) {
    const selected = selects(policy, subject);
    const missing = selected ? disallowedAudiences(policy, request) : request.audiences;
    const excluded =
      selected && missing.length === 0 && policy.ref.kind === "TokenPolicy"
        ? firstDefined(request.audiences, (a) => policies.tokenPolicyExclusion(a, subject.namespace.labels, asEnforced))
        : undefined;
    const audienceAllowed = selected && missing.length === 0 && request.audiences.length > 0 && excluded === undefined;
    if (selected) selecting.push(policy);
    let skippedBecause: string | undefined;
    if (!selected) {
      skippedBecause = "does not select this subject";
    } else if (excluded !== undefined) {
      skippedBecause = excluded;
      exclusion ??= excluded;
    } else if (!audienceAllowed) {
      skippedBecause =
        missing.length === 0 ? "no audience was requested" : `does not allow audience ${missing.map(quote).join(", ")}`;
    } else if (chosen === undefined) {
      chosen = policy;
    } else if (rival === undefined && samePrecedence(chosen, policy)) {
      rival = policy;
      skippedBecause = `conflicts with ${formatRef(chosen.ref)} (same kind and priority)`;
    } else {
      skippedBecause = `${formatRef(chosen.ref)} takes precedence`;
    }
    evaluations.push({
      policy: policy.ref,
      selected,
      audienceAllowed,
      conditions: [],
      ...(skippedBecause === undefined ? {} : { skippedBecause }),
    });
  }
  if (chosen !== undefined && rival !== undefined) {
    const chosenRef = chosen.ref;
    const marked = evaluations.map((e) =>
      e.policy === chosenRef ? { ...e, skippedBecause: `conflicts with ${formatRef(rival.ref)} (same kind and priority)` } : e,
    );
    return { outcome: "conflict", policies: [chosen, rival], evaluations: marked };
  }
  if (chosen !== undefined) return { outcome: "matched", policy: chosen, evaluations };
  if (selecting.length > 0) {
    return { outcome: "audience-not-allowed", selecting, evaluations, ...(exclusion === undefined ? {} : { exclusion }) };
  }
  return { outcome: "no-match", rejected: policies.rejected(subject.namespace.name), evaluations };
}

function samePrecedence(a: CompiledPolicy, b: CompiledPolicy): boolean {
  return a.ref.kind === b.ref.kind && a.priority === b.priority;
}

function firstDefined<T, R>(values: readonly T[], f: (value: T) => R | undefined): R | undefined {
  for (const value of values) {
    const result = f(value);
    if (result !== undefined) return result;
  }
  return undefined;
}

function quote(s: string): string {
  return `'${s}'`;
}
