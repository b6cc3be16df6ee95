// who-can: which service accounts can obtain a token for an audience (and scope), through which policy and owner.
//
// Pure. The answer comes from the issuer's engine, never from a second reading of the policies: candidates are
// enumerated (gather), and each is decided by policy/decide.ts exactly as an exchange from such a pod would be.
// Candidates: every service account a policy granting the audience names, in each namespace it applies to (a
// ClusterTokenPolicy's selected namespaces); where a policy names none, every known account there plus "*" (any
// other account); every account the audience owner's contract names. A pod selector is satisfied by labels made
// from it, and conditions that read the pod are set aside (pod-conditions.ts) and reported as "if ...".

import type { ServiceAccountRef } from "../../../../api/token-policy.ts";
import {
  canonicalAudience,
  decide,
  formatRef,
  type AudienceEvaluation,
  type CompiledPolicy,
  type DenialReason,
  type DenyingParty,
  type PolicySet,
} from "../../policy/index.ts";
import { buildSubject } from "../../policy/subject.ts";
import type { LoadProblem } from "../manifests/documents.ts";
import { compileSnapshot, namespaceLabelsOf, type ClusterSnapshot, type Labels } from "../manifests/snapshot.ts";
import { describeSelector, labelsSelectedBy, relaxPodConditions, type SetAside } from "./pod-conditions.ts";

/** The account name standing for "any other service account" in a namespace. */
export const ANY_ACCOUNT = "*";

export interface WhoCanQuery {
  readonly audience: string;
  /** One scope to ask for; absent asks for the policy's default scopes. */
  readonly scope?: string;
  readonly cluster?: { readonly name: string; readonly environment: string };
}

/** One way a service account obtains the token. */
export interface WhoCanGrant {
  /** namespace/name, or namespace/* for any account no policy or contract names. */
  readonly serviceAccount: string;
  readonly policy: string;
  /** Who decided for the audience: the owner's contract and the caller entries that admitted, the cluster, or open. */
  readonly owner: string;
  readonly scopes: readonly string[];
  readonly ttlSeconds: number;
  /** What must also hold of the pod; empty when every pod of the account obtains it. */
  readonly conditions: readonly string[];
}

/** A named account that asks for the audience and is refused, with the engine's reason. */
export interface WhoCanRefusal {
  readonly serviceAccount: string;
  readonly reason: DenialReason;
  readonly deniedBy: DenyingParty;
  readonly message: string;
  readonly policy?: string;
}

export type WhoCanReport =
  | {
      readonly ok: true;
      readonly audience: string;
      readonly scope?: string;
      readonly grants: readonly WhoCanGrant[];
      readonly refused: readonly WhoCanRefusal[];
      /** Resources that did not compile (they grant nothing). */
      readonly problems: readonly LoadProblem[];
    }
  | { readonly ok: false; readonly message: string };

interface Candidate {
  readonly account: ServiceAccountRef;
  readonly podLabels: Labels;
}

export function whoCan(snapshot: ClusterSnapshot, query: WhoCanQuery, now: Date): WhoCanReport {
  const canonical = canonicalAudience(query.audience);
  if (!canonical.ok) return { ok: false, message: `'${query.audience}' is not a valid audience: ${canonical.message}` };
  const audience = canonical.audience;
  const relaxed = relaxPodConditions(snapshot.resources);
  const { set, problems } = compileSnapshot({ ...snapshot, resources: relaxed.resources });
  const cluster = query.cluster ?? { name: "", environment: "" };
  const request = { audiences: [audience], scopes: query.scope === undefined ? [] : [query.scope] };
  const labelsOf = (name: string): Labels => snapshot.namespaces.get(name) ?? namespaceLabelsOf(name);

  const grants = new Map<string, WhoCanGrant>();
  const refusals = new Map<string, WhoCanRefusal>();
  candidatesFor(audience, set, snapshot).forEach((candidate, i) => {
    const { account } = candidate;
    const subject = buildSubject({
      serviceAccount: account,
      namespace: { name: account.namespace, labels: labelsOf(account.namespace) },
      pod: { name: `${account.name}-who-can`, uid: "", labels: candidate.podLabels, annotations: {} },
      cluster,
    });
    const decision = decide({
      subject,
      request,
      policies: set,
      now,
      id: `who-can-${i}`,
      namespaceLabels: (name) => snapshot.namespaces.get(name),
    });
    const who = `${account.namespace}/${account.name}`;
    if (decision.allowed) {
      const chosen = set.get(decision.policy);
      const [owned] = decision.audiences;
      const conditions = [
        ...(chosen?.grants?.subjects.podSelector === undefined ? [] : [`pod labels ${podSelectorText(chosen)}`]),
        ...(relaxed.setAside.get(formatRef(decision.policy)) ?? []).map(conditionText),
        ...contractConditions(owned, relaxed.setAside),
      ];
      const grant: WhoCanGrant = {
        serviceAccount: who,
        policy: formatRef(decision.policy),
        owner: ownerText(owned),
        scopes: decision.grant.scopes,
        ttlSeconds: decision.grant.ttlSeconds,
        conditions,
      };
      grants.set(JSON.stringify([grant.serviceAccount, grant.policy, grant.conditions]), grant);
    } else if (refusals.get(who)?.policy === undefined) {
      // Of an account's probes, the refusal from one a policy chose says more than "no policy selects this pod".
      refusals.set(who, {
        serviceAccount: who,
        reason: decision.reason,
        deniedBy: decision.deniedBy,
        message: decision.message,
        ...(decision.policy === undefined ? {} : { policy: formatRef(decision.policy) }),
      });
    }
  });
  // An account that obtains the token from some pods is listed with the condition, not also as refused.
  const granted = new Set([...grants.values()].map((g) => g.serviceAccount));
  const refused = [...refusals.values()].filter((r) => !granted.has(r.serviceAccount));
  return {
    ok: true,
    audience,
    ...(query.scope === undefined ? {} : { scope: query.scope }),
    grants: [...grants.values()].sort((a, b) => compare(a.serviceAccount, b.serviceAccount) || compare(a.policy, b.policy)),
    refused: refused.sort((a, b) => compare(a.serviceAccount, b.serviceAccount)),
    problems,
  };
}

/** Every caller worth deciding for this audience (see the header); deduplicated. */
export function candidatesFor(audience: string, set: PolicySet, snapshot: ClusterSnapshot): Candidate[] {
  const out = new Map<string, Candidate>();
  const add = (namespace: string, name: string, podLabels: Labels = {}): void => {
    const account = { namespace, name };
    out.set(JSON.stringify([namespace, name, Object.entries(podLabels).sort()]), { account, podLabels });
  };
  for (const policy of set.policies()) {
    const grants = policy.grants;
    if (grants?.audiences.has(audience) !== true) continue;
    const podLabels = podLabelsFor(policy);
    if (podLabels === undefined) continue;
    const namespaces =
      policy.ref.kind === "TokenPolicy"
        ? [policy.ref.namespace ?? ""]
        : [...snapshot.namespaces].filter(([, labels]) => grants.subjects.namespaceSelector?.matches(labels) === true).map(([name]) => name);
    for (const namespace of namespaces) {
      const named = grants.subjects.serviceAccounts;
      const names =
        named === undefined
          ? [...snapshot.serviceAccounts.filter((sa) => sa.namespace === namespace).map((sa) => sa.name), ANY_ACCOUNT]
          : [...named];
      for (const name of names) add(namespace, name, podLabels);
    }
  }
  for (const contract of set.contractsFor(audience)) {
    for (const caller of contract.callers) {
      for (const ref of caller.serviceAccounts ?? []) {
        const [namespace = "", name = ""] = ref.split("/");
        add(namespace, name);
      }
    }
  }
  return [...out.values()];
}

/** Labels a pod selected by the policy would carry; {} without a selector, undefined when no pod can match. */
function podLabelsFor(policy: CompiledPolicy): Labels | undefined {
  const selector = policy.source.spec.subjects?.podSelector;
  const compiled = policy.grants?.subjects.podSelector;
  if (selector === undefined || compiled === undefined) return {};
  const labels = labelsSelectedBy(selector);
  return labels !== undefined && compiled.matches(labels) ? labels : undefined;
}

function podSelectorText(policy: CompiledPolicy): string {
  const selector = policy.source.spec.subjects?.podSelector;
  return selector === undefined ? "" : describeSelector(selector);
}

function conditionText(c: SetAside): string {
  return `${c.name}: ${c.expression}`;
}

/** Pod conditions of the contract's caller entries that admitted this caller. */
function contractConditions(owned: AudienceEvaluation | undefined, setAside: ReadonlyMap<string, readonly SetAside[]>): string[] {
  if (owned?.contract === undefined) return [];
  const contract = `TokenAudience/${owned.contract.namespace}/${owned.contract.name}`;
  return (owned.admittedBy ?? []).flatMap((caller) =>
    (setAside.get(`${contract}#${caller}`) ?? []).map((c) => `${contract} caller ${caller}: ${conditionText(c)}`),
  );
}

function ownerText(owned: AudienceEvaluation | undefined): string {
  if (owned === undefined) return "?";
  if (owned.ownedBy === "Contract" && owned.contract !== undefined) {
    const callers = owned.admittedBy === undefined || owned.admittedBy.length === 0 ? "" : ` (callers ${owned.admittedBy.join(", ")})`;
    return `TokenAudience/${owned.contract.namespace}/${owned.contract.name}${callers}`;
  }
  if (owned.ownedBy === "Cluster") return `the cluster (${owned.assignedBy ?? "?"})`;
  if (owned.ownedBy === "Open") return `open (${owned.assignedBy ?? "?"})`;
  return owned.ownedBy;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
