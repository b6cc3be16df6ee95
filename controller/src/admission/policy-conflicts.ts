// Finds policies of the same kind and priority that could both match one request: the engine refuses such
// ties at issuance time (PolicyConflict), so admission catches them when a policy is written.
import type {
  AnyTokenPolicy,
  LabelSelector,
} from "../../../api/token-policy.ts";

export interface PolicyConflict {
  /** The other policy. */
  readonly other: AnyTokenPolicy;
  /** Audiences both policies grant. */
  readonly audiences: readonly string[];
}

interface KeyConstraint {
  in?: Set<string>;
  notIn: Set<string>;
  exists: boolean;
  doesNotExist: boolean;
}

function constraintsOf(selectors: readonly LabelSelector[]): Map<string, KeyConstraint> {
  const byKey = new Map<string, KeyConstraint>();
  const of = (key: string): KeyConstraint => {
    let constraint = byKey.get(key);
    if (constraint === undefined) {
      constraint = { notIn: new Set(), exists: false, doesNotExist: false };
      byKey.set(key, constraint);
    }
    return constraint;
  };
  const restrictIn = (constraint: KeyConstraint, values: readonly string[]): void => {
    constraint.in = constraint.in === undefined ? new Set(values) : new Set(values.filter((v) => constraint.in?.has(v)));
  };
  for (const selector of selectors) {
    for (const [key, value] of Object.entries(selector.matchLabels ?? {})) restrictIn(of(key), [value]);
    for (const requirement of selector.matchExpressions ?? []) {
      const constraint = of(requirement.key);
      if (requirement.operator === "In") restrictIn(constraint, requirement.values ?? []);
      else if (requirement.operator === "NotIn") for (const v of requirement.values ?? []) constraint.notIn.add(v);
      else if (requirement.operator === "Exists") constraint.exists = true;
      else constraint.doesNotExist = true;
    }
  }
  return byKey;
}

/** True when some set of labels satisfies every selector at once (absent selectors match everything). */
export function selectorsCanOverlap(...selectors: readonly (LabelSelector | undefined)[]): boolean {
  const present = selectors.filter((s): s is LabelSelector => s !== undefined);
  for (const constraint of constraintsOf(present).values()) {
    if (constraint.doesNotExist && (constraint.exists || constraint.in !== undefined)) return false;
    if (constraint.in !== undefined && ![...constraint.in].some((v) => !constraint.notIn.has(v))) return false;
  }
  return true;
}

function serviceAccountsOverlap(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  return a.some((name) => b.includes(name));
}

function sameObject(a: AnyTokenPolicy, b: AnyTokenPolicy): boolean {
  return a.kind === b.kind && a.metadata.name === b.metadata.name && a.metadata.namespace === b.metadata.namespace;
}

/** Policies in `others` that tie with `policy`: same kind and priority, a subject both select, a shared audience. */
export function findConflicts(policy: AnyTokenPolicy, others: readonly AnyTokenPolicy[]): PolicyConflict[] {
  const conflicts: PolicyConflict[] = [];
  const subjects = policy.spec.subjects;
  if (subjects === undefined) return conflicts; // a guardrails-only ClusterTokenPolicy grants nothing
  for (const other of others) {
    if (other.kind !== policy.kind || sameObject(other, policy)) continue;
    if (policy.kind === "TokenPolicy" && other.metadata.namespace !== policy.metadata.namespace) continue;
    const otherSubjects = other.spec.subjects;
    if (otherSubjects === undefined) continue;
    if ((other.spec.priority ?? 0) !== (policy.spec.priority ?? 0)) continue;
    const audiences = (policy.spec.audiences ?? []).filter((a) => (other.spec.audiences ?? []).includes(a));
    if (audiences.length === 0) continue;
    if (!serviceAccountsOverlap(subjects.serviceAccounts, otherSubjects.serviceAccounts)) continue;
    if (!selectorsCanOverlap(subjects.podSelector, otherSubjects.podSelector)) continue;
    if (
      "namespaceSelector" in subjects &&
      "namespaceSelector" in otherSubjects &&
      !selectorsCanOverlap(subjects.namespaceSelector, otherSubjects.namespaceSelector)
    ) {
      continue;
    }
    conflicts.push({ other, audiences });
  }
  return conflicts;
}
