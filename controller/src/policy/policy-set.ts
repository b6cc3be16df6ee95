// PolicySet: every compiled policy, indexed so one decision looks only at the policies that could apply.
//
// TokenPolicies are grouped by namespace and ClusterTokenPolicies kept apart, each list sorted once in
// precedence order (priority descending, then name), so matching is a walk over one namespace's policies
// plus the cluster ones, whatever the total.
//
// Every query takes `asEnforced`: audited resources are left out of every answer (a decision is made as if they did
// not exist), except the one audited rule a counterfactual decision asks about, which is answered as if enforced.

import type { PolicyRef } from "../../../api/token-policy.ts";
import type { CompiledPolicy, RejectedPolicy } from "./compiled-policy.ts";
import { combineGuardrails, type EffectiveGuardrails } from "./guardrails.ts";
import { match, type MatchResult } from "./match.ts";
import type { CompiledContract, ContractRef } from "./audience/contract.ts";
import { resolveOwnership, type CompiledOwnershipRule, type Ownership } from "./audience/ownership.ts";
import { formatRef, refKey } from "./refs.ts";
import { resourceApplies, type AsEnforced } from "./enforcement.ts";
import type { Subject, TokenRequest } from "./types.ts";

export class PolicySet {
  readonly #byNamespace: ReadonlyMap<string, readonly CompiledPolicy[]>;
  readonly #clusterGrants: readonly CompiledPolicy[];
  readonly #guardrails: readonly CompiledPolicy[];
  readonly #rejected: readonly RejectedPolicy[];
  readonly #all: readonly CompiledPolicy[];
  readonly #ownership: readonly CompiledOwnershipRule[];
  readonly #contracts: ReadonlyMap<string, readonly CompiledContract[]>;
  readonly #contractList: readonly CompiledContract[];
  /** ClusterTokenPolicies whose audiences TokenPolicies may not grant in the namespaces they select. */
  readonly #exclusive: readonly CompiledPolicy[];

  private constructor(all: readonly CompiledPolicy[], rejected: readonly RejectedPolicy[], contracts: readonly CompiledContract[]) {
    const byNamespace = new Map<string, CompiledPolicy[]>();
    const clusterGrants: CompiledPolicy[] = [];
    for (const policy of all) {
      if (policy.ref.kind === "TokenPolicy") {
        const namespace = policy.ref.namespace ?? "";
        const list = byNamespace.get(namespace) ?? [];
        list.push(policy);
        byNamespace.set(namespace, list);
      } else if (policy.grants !== undefined) {
        clusterGrants.push(policy);
      }
    }
    for (const list of byNamespace.values()) list.sort(byPrecedence);
    this.#byNamespace = byNamespace;
    this.#clusterGrants = clusterGrants.sort(byPrecedence);
    this.#guardrails = all.filter((p) => p.guardrails !== undefined).sort(byPrecedence);
    this.#rejected = rejected;
    this.#all = all;
    // Ownership is never audited (compile refuses it); an audited policy's rules are left out all the same.
    this.#ownership = all.flatMap((p) => (p.audited === true ? [] : (p.ownership ?? [])));
    this.#exclusive = this.#clusterGrants.filter((p) => p.allowTokenPolicies !== true);
    const byAudience = new Map<string, CompiledContract[]>();
    for (const contract of contracts) {
      const list = byAudience.get(contract.audience) ?? [];
      list.push(contract);
      byAudience.set(contract.audience, list);
    }
    this.#contracts = byAudience;
    this.#contractList = contracts;
  }

  /**
   * Indexes compiled policies. `rejected` are policies that failed to compile: they grant nothing, but a
   * denial can name them. Throws TypeError when two policies share kind, namespace and name.
   */
  static from(
    compiled: readonly CompiledPolicy[],
    rejected: readonly RejectedPolicy[] = [],
    contracts: readonly CompiledContract[] = [],
  ): PolicySet {
    const seen = new Set<string>();
    for (const ref of [...compiled.map((p) => p.ref), ...rejected.map((r) => r.ref)]) {
      const key = refKey(ref);
      if (seen.has(key)) throw new TypeError(`policy ${key} appears twice in one PolicySet`);
      seen.add(key);
    }
    for (const { ref } of contracts) {
      const key = `${ref.kind}/${ref.namespace}/${ref.name}`;
      if (seen.has(key)) throw new TypeError(`contract ${key} appears twice in one PolicySet`);
      seen.add(key);
    }
    return new PolicySet(compiled, rejected, contracts);
  }

  /** Who owns a canonical audience under the operators' ownership rules (and Service URLs). */
  ownershipOf(audience: string): Ownership {
    return resolveOwnership(this.#ownership, audience);
  }

  /** Every compiled TokenAudience for a canonical audience, wherever it lives (owner resolution picks among them). */
  contractsFor(audience: string, asEnforced?: AsEnforced): readonly CompiledContract[] {
    return (this.#contracts.get(audience) ?? []).filter((c) => resourceApplies(c, asEnforced));
  }

  /** Every compiled TokenAudience for a canonical audience, audited ones included (for audit and status). */
  allContractsFor(audience: string): readonly CompiledContract[] {
    return this.#contracts.get(audience) ?? [];
  }

  /** Every compiled TokenAudience. */
  contracts(): readonly CompiledContract[] {
    return this.#contractList;
  }

  getContract(ref: Pick<ContractRef, "namespace" | "name">): CompiledContract | undefined {
    return this.#contractList.find((c) => c.ref.namespace === ref.namespace && c.ref.name === ref.name);
  }

  /**
   * Why no TokenPolicy in a namespace with these labels may grant this audience, or undefined when one may: the
   * operator owns it (ownedBy Cluster), or a ClusterTokenPolicy selecting the namespace grants it exclusively.
   */
  tokenPolicyExclusion(audience: string, namespaceLabels: Readonly<Record<string, string>>, asEnforced?: AsEnforced): string | undefined {
    const ownership = this.ownershipOf(audience);
    if (ownership.kind === "Cluster") {
      return `audience '${audience}' is owned by the cluster (${ownership.by} spec.audienceOwnership); only ClusterTokenPolicies grant it`;
    }
    for (const policy of this.#exclusive) {
      if (!resourceApplies(policy, asEnforced)) continue;
      const grants = policy.grants;
      if (grants?.audiences.has(audience) !== true) continue;
      if (grants.subjects.namespaceSelector?.matches(namespaceLabels) !== true) continue;
      return `audience '${audience}' is granted here only by ${formatRef(policy.ref)} (it does not set allowTokenPolicies)`;
    }
    return undefined;
  }

  get size(): number {
    return this.#all.length;
  }

  /** Every compiled policy, in the order given. */
  policies(): readonly CompiledPolicy[] {
    return this.#all;
  }

  /** Granting policies that could apply in a namespace, in precedence order: its TokenPolicies, then cluster ones. */
  candidates(namespace: string, asEnforced?: AsEnforced): readonly CompiledPolicy[] {
    return [...(this.#byNamespace.get(namespace) ?? []), ...this.#clusterGrants].filter((p) => resourceApplies(p, asEnforced));
  }

  /** Granting policies that could apply in a namespace, audited ones included, in precedence order. */
  allCandidates(namespace: string): readonly CompiledPolicy[] {
    return [...(this.#byNamespace.get(namespace) ?? []), ...this.#clusterGrants];
  }

  /** Policies that failed to compile and would have been candidates in this namespace (audited ones are not). */
  rejected(namespace: string): readonly RejectedPolicy[] {
    return this.#rejected.filter((r) => r.audited !== true && (r.ref.kind === "ClusterTokenPolicy" || r.ref.namespace === namespace));
  }

  /**
   * ClusterTokenPolicies whose guardrails failed to compile: while any exists, TokenPolicies grant nothing. An
   * audited one is not among them: it could not have narrowed anything.
   */
  rejectedGuardrails(): readonly RejectedPolicy[] {
    return this.#rejected.filter((r) => r.ref.kind === "ClusterTokenPolicy" && r.hasGuardrails === true && r.audited !== true);
  }

  /** The combined guardrails over TokenPolicies of a namespace with these labels. */
  guardrailsFor(namespaceLabels: Readonly<Record<string, string>>, asEnforced?: AsEnforced): EffectiveGuardrails {
    return combineGuardrails(this.#guardrails.filter((p) => resourceApplies(p, asEnforced)), namespaceLabels);
  }

  /** ClusterTokenPolicies with guardrails, audited ones included, in precedence order. */
  allGuardrails(): readonly CompiledPolicy[] {
    return this.#guardrails;
  }

  get(ref: Pick<PolicyRef, "kind" | "namespace" | "name">): CompiledPolicy | undefined {
    const key = refKey({ ...ref, generation: 0 });
    return this.#all.find((p) => refKey(p.ref) === key);
  }

  /** The policy that applies to this subject and request, in documented precedence (see match.ts). */
  match(subject: Subject, request: TokenRequest, asEnforced?: AsEnforced): MatchResult {
    return match(this, subject, request, asEnforced);
  }
}

/** Higher priority first, then name; namespaced lists hold one namespace, so name is unique within a list. */
function byPrecedence(a: CompiledPolicy, b: CompiledPolicy): number {
  return b.priority - a.priority || (a.ref.name < b.ref.name ? -1 : a.ref.name > b.ref.name ? 1 : 0);
}
