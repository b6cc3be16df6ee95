// The gather step: reads the caches and the engine's compile results into StatusFacts (no writes, no decisions).
import type { AnyTokenPolicy, PolicySpecCommon } from "../../../api/token-policy.ts";
import type { IssuanceTracker } from "./issuance-tracker.ts";
import type { AuditTracker } from "./audit-tracker.ts";
import { auditedParts, storedCounts } from "./audit-status.ts";
import type { CachedClusterTokenPolicy, CachedTokenAudience, CachedTokenPolicy, SlimNamespace, SlimPod } from "./objects.ts";
import { isActive, isUninjected, subjectsSelector } from "./pod-match.ts";
import { labelSelectorMatcher } from "../policy/selector.ts";
import type { LivePolicySet } from "./live-policy-set.ts";
import type { StatusFacts } from "./policy-status.ts";
import type { Store } from "./store.ts";

export interface Caches {
  readonly pods: Store<SlimPod>;
  readonly namespaces: Store<SlimNamespace>;
  readonly tokenPolicies: Store<CachedTokenPolicy>;
  readonly clusterTokenPolicies: Store<CachedClusterTokenPolicy>;
  readonly tokenAudiences: Store<CachedTokenAudience>;
}

export interface Gathered {
  readonly facts: StatusFacts;
  /** Selected pods that opted in but run without the sidecar. */
  readonly uninjected: readonly SlimPod[];
}

/** Pods a policy selects right now (active pods only). */
export function selectedPods(policy: AnyTokenPolicy, caches: Caches): SlimPod[] {
  if (policy.kind === "TokenPolicy") {
    const ns = policy.metadata.namespace ?? "";
    const selects = subjectsSelector(policy.spec.subjects);
    return caches.pods.inNamespace(ns).filter((p) => isActive(p) && selects(p));
  }
  const subjects = policy.spec.subjects;
  if (subjects === undefined) return [];
  const selects = subjectsSelector(subjects);
  const namespaces = labelSelectorMatcher(subjects.namespaceSelector);
  const out: SlimPod[] = [];
  for (const ns of caches.namespaces.list()) {
    // The namespace selector is the same for every pod of a namespace: asked once, most namespaces are skipped whole.
    if (!namespaces.matches(ns.metadata.labels)) continue;
    for (const pod of caches.pods.inNamespace(ns.metadata.name)) {
      if (isActive(pod) && selects(pod)) out.push(pod);
    }
  }
  return out;
}

function label(p: AnyTokenPolicy): string {
  return p.metadata.namespace === undefined ? `${p.kind} ${p.metadata.name}` : `${p.kind} ${p.metadata.namespace}/${p.metadata.name}`;
}

/**
 * Conflicts: another accepted policy of the same kind and priority that grants a shared audience to a pod this one
 * also selects. The engine denies such requests with PolicyConflict, so the owners need to hear about it.
 */
function conflicts<TC, TS>(
  policy: AnyTokenPolicy,
  peers: readonly AnyTokenPolicy[],
  mine: readonly SlimPod[],
  caches: Caches,
  set: LivePolicySet<TC, TS>,
): string[] {
  const spec = policy.spec as Partial<PolicySpecCommon>;
  const audiences = new Set(spec.audiences ?? []);
  if (audiences.size === 0 || mine.length === 0) return [];
  const mineUids = new Set(mine.map((p) => p.metadata.uid));
  const out: string[] = [];
  for (const other of peers) {
    if (other.metadata.uid === policy.metadata.uid) continue;
    const otherSpec = other.spec as Partial<PolicySpecCommon>;
    if ((otherSpec.priority ?? 0) !== (spec.priority ?? 0)) continue;
    const shared = (otherSpec.audiences ?? []).filter((a) => audiences.has(a));
    if (shared.length === 0 || !set.compile(other).ok) continue;
    const common = selectedPods(other, caches).find((p) => mineUids.has(p.metadata.uid));
    if (common === undefined) continue;
    out.push(`${label(other)} has the same priority (${spec.priority ?? 0}) and also grants audience ${shared[0] ?? ""} to pod ${common.metadata.namespace ?? ""}/${common.metadata.name}`);
  }
  return out;
}

export function gatherFacts<TC, TS>(
  policy: AnyTokenPolicy,
  caches: Caches,
  set: LivePolicySet<TC, TS>,
  tracker: IssuanceTracker,
  audits?: AuditTracker,
): Gathered {
  const outcome = set.compile(policy);
  const compileErrors = outcome.ok ? [] : outcome.errors;
  const clusterPolicies = caches.clusterTokenPolicies.list();
  const nsLabels = caches.namespaces.get(policy.metadata.namespace ?? "")?.metadata.labels ?? {};
  const guardrailViolations = outcome.ok ? set.guardrailViolations(outcome.compiled, nsLabels) : [];
  const pods = selectedPods(policy, caches);
  const uninjected = pods.filter((p) => isUninjected(p, caches.namespaces.get(p.metadata.namespace ?? "")));
  const peers: AnyTokenPolicy[] =
    policy.kind === "TokenPolicy" ? caches.tokenPolicies.inNamespace(policy.metadata.namespace ?? "") : clusterPolicies;
  const ref = policy.metadata.namespace === undefined ? { kind: policy.kind, name: policy.metadata.name } : { kind: policy.kind, namespace: policy.metadata.namespace, name: policy.metadata.name };
  return {
    facts: {
      generation: policy.metadata.generation,
      compileErrors,
      guardrailViolations,
      conflicts: outcome.ok ? conflicts(policy, peers, pods, caches, set) : [],
      podsMatched: pods.length,
      podsUninjected: uninjected.length,
      lastIssuance: tracker.last(ref),
      costLimit: tracker.costLimit(ref),
      audited: auditedParts(policy.spec),
      audit: audits?.tally(ref, policy.metadata.generation ?? 0, storedCounts(policy.status?.audit, policy.metadata.generation ?? 0)),
    },
    uninjected,
  };
}
