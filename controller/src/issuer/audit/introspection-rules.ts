// Pure introspection rules: given a verified token's claims and the facts gathered for it, why (if at all) is it inactive?

import { CLAIM_POD, CLAIM_POLICY } from "../../../../api/constants.ts";
import type { PolicyRef } from "../../../../api/token-policy.ts";
import type { InactiveReason } from "../metrics.ts";
import type { PodInfo } from "../subject/pod-lookup.ts";

/** What a Tessera token is bound to, read from its claims. */
export interface TokenBinding {
  readonly pod: { readonly namespace: string; readonly name: string; readonly uid: string };
  readonly policy: Omit<PolicyRef, "generation">;
  readonly iat: number;
}

/** The policy a token was minted under, as it stands now. */
export type PolicyState = { readonly found: false } | { readonly found: true; readonly revokeBefore?: string };

/** Everything gathered (with I/O) before the rules run. */
export interface IntrospectionFacts {
  readonly revoked: boolean;
  readonly pod: PodInfo | undefined;
  readonly policy: PolicyState;
}

function record(value: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The binding claims of a verified token; undefined when any is missing (then it is no Tessera access token). */
export function tokenBinding(claims: Readonly<Record<string, unknown>>): TokenBinding | undefined {
  const pod = record(claims[CLAIM_POD]);
  const policy = record(claims[CLAIM_POLICY]);
  const iat = claims["iat"];
  const podNamespace = str(pod?.["namespace"]);
  const podName = str(pod?.["name"]);
  const podUid = str(pod?.["uid"]);
  const kind = policy?.["kind"];
  const policyName = str(policy?.["name"]);
  const policyNamespace = policy?.["namespace"];
  if (podNamespace === undefined || podName === undefined || podUid === undefined || policyName === undefined) return undefined;
  if (typeof iat !== "number" || (kind !== "TokenPolicy" && kind !== "ClusterTokenPolicy")) return undefined;
  // A TokenPolicy always has a namespace and a ClusterTokenPolicy never does: anything else is malformed.
  if ((kind === "TokenPolicy") !== (typeof policyNamespace === "string")) return undefined;
  return {
    pod: { namespace: podNamespace, name: podName, uid: podUid },
    policy: { kind, name: policyName, ...(typeof policyNamespace === "string" ? { namespace: policyNamespace } : {}) },
    iat,
  };
}

/**
 * The first reason the token is inactive, or undefined when it is active. Order: revocation of this token, then its
 * pod, then its policy; the answer is the same set either way, the order only picks the reason that is counted.
 */
export function inactiveReason(binding: TokenBinding, facts: IntrospectionFacts): InactiveReason | undefined {
  if (facts.revoked) return "revoked";
  const pod = facts.pod;
  if (pod?.uid !== binding.pod.uid) return "pod-gone";
  if (pod.deletionTimestamp !== undefined || pod.phase === "Succeeded" || pod.phase === "Failed") return "pod-gone";
  if (!facts.policy.found) return "policy-gone";
  const revokeBefore = facts.policy.revokeBefore;
  if (revokeBefore !== undefined) {
    const cutoffMs = Date.parse(revokeBefore);
    // An unparseable revokeBefore is read as "revoke everything": the operator meant to revoke something.
    if (Number.isNaN(cutoffMs) || binding.iat * 1000 < cutoffMs) return "policy-revoked";
  }
  return undefined;
}
