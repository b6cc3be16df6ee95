// choosePolicy: the first stage of decide, which policy applies or the denial met while choosing one (no CEL runs).
import type { CompiledPolicy } from "./compiled-policy.ts";
import type { PolicySet } from "./policy-set.ts";
import { formatRef } from "./refs.ts";
import type { AsEnforced } from "./enforcement.ts";
import type { DenialReason, PolicyEvaluation, Subject, TokenRequest } from "./types.ts";

export type Choice =
  | { readonly chosen: true; readonly policy: CompiledPolicy; readonly evaluations: readonly PolicyEvaluation[] }
  | { readonly chosen: false; readonly reason: DenialReason; readonly message: string; readonly evaluations: readonly PolicyEvaluation[] };

/**
 * The policy decide goes on to check, or the denial decide returns before checking any policy's guardrails,
 * delegation, conditions, scopes or claims. `request` is as decide sees it (audiences and scopes deduplicated).
 * Admission previews a pod with this alone: only these denials can be fixed by writing a policy.
 */
export function choosePolicy(subject: Subject, request: TokenRequest, policies: PolicySet, asEnforced?: AsEnforced): Choice {
  if (request.audiences.length === 0) return deny("AudienceNotAllowed", "the request names no audience", []);
  const matched = policies.match(subject, request, asEnforced);
  switch (matched.outcome) {
    case "no-match": {
      const { rejected, evaluations } = matched;
      if (rejected.length > 0) {
        const named = rejected.map((r) => `${formatRef(r.ref)} (${r.errors.map((e) => `${e.path}: ${e.message}`).join("; ")})`);
        return deny(
          "PolicyNotAccepted",
          `no accepted policy grants ${describeSubject(subject)}; not accepted: ${named.join(", ")}`,
          evaluations,
        );
      }
      return deny("NoMatchingPolicy", `no policy grants tokens to ${describeSubject(subject)}`, evaluations);
    }
    case "audience-not-allowed":
      if (matched.exclusion !== undefined) {
        return deny(
          "AudienceNotAllowed",
          `${matched.selecting.map((p) => formatRef(p.ref)).join(", ")} cannot grant this: ${matched.exclusion}`,
          matched.evaluations,
        );
      }
      return deny(
        "AudienceNotAllowed",
        `${matched.selecting.map((p) => formatRef(p.ref)).join(", ")} ` +
          (matched.selecting.length === 1 ? "selects" : "select") +
          ` ${describeSubject(subject)} but ${matched.selecting.length === 1 ? "does not allow" : "none allows"} ` +
          `every requested audience (${request.audiences.join(", ")})`,
        matched.evaluations,
      );
    case "conflict": {
      const [a, b] = matched.policies;
      return deny(
        "PolicyConflict",
        `${formatRef(a.ref)} and ${formatRef(b.ref)} both grant this request with priority ${a.priority}; ` +
          "give one a higher spec.priority or narrow its subjects",
        matched.evaluations,
      );
    }
    case "matched":
      return { chosen: true, policy: matched.policy, evaluations: matched.evaluations };
  }
}

function deny(reason: DenialReason, message: string, evaluations: readonly PolicyEvaluation[]): Choice {
  return { chosen: false, reason, message, evaluations };
}

function describeSubject(subject: Subject): string {
  return `service account ${subject.serviceAccount.namespace}/${subject.serviceAccount.name} (pod ${subject.pod.name})`;
}
