// PolicySet: every compiled policy, indexed so one decision looks only at the policies that could apply.
//
// TokenPolicies are grouped by namespace and ClusterTokenPolicies kept apart, each list sorted once in
// precedence order (priority descending, then name), so matching is a walk over one namespace's policies
// plus the cluster ones, whatever the total.

import type { PolicyRef } from "../../../api/token-policy.ts";
import type { CompiledPolicy, RejectedPolicy } from "./compiled-policy.ts";
import { combineGuardrails, type EffectiveGuardrails } from "./guardrails.ts";
import { match, type MatchResult } from "./match.ts";
import { refKey } from "./refs.ts";
import type { Subject, TokenRequest } from "./types.ts";

export class PolicySet {
  readonly #byNamespace: ReadonlyMap<string, readonly CompiledPolicy[]>;
  readonly #clusterGrants: readonly CompiledPolicy[];
  readonly #guardrails: readonly CompiledPolicy[];
  readonly #rejected: readonly RejectedPolicy[];
  readonly #all: readonly CompiledPolicy[];

  private constructor(all: readonly CompiledPolicy[], rejected: readonly RejectedPolicy[]) {
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
  }

  /**
   * Indexes compiled policies. `rejected` are policies that failed to compile: they grant nothing, but a
   * denial can name them. Throws TypeError when two policies share kind, namespace and name.
   */
  static from(compiled: readonly CompiledPolicy[], rejected: readonly RejectedPolicy[] = []): PolicySet {
    const seen = new Set<string>();
    for (const ref of [...compiled.map((p) => p.ref), ...rejected.map((r) => r.ref)]) {
      const key = refKey(ref);
      if (seen.has(key)) throw new TypeError(`policy ${key} appears twice in one PolicySet`);
      seen.add(key);
    }
    return new PolicySet(compiled, rejected);
  }

  get size(): number {
    return this.#all.length;
  }

  /** Every compiled policy, in the order given. */
  policies(): readonly CompiledPolicy[] {
    return this.#all;
  }

  /** Granting policies that could apply in a namespace, in precedence order: its TokenPolicies, then cluster ones. */
  candidates(namespace: string): readonly CompiledPolicy[] {
    return [...(this.#byNamespace.get(namespace) ?? []), ...this.#clusterGrants];
  }

  /** Policies that failed to compile and would have been candidates in this namespace. */
  rejected(namespace: string): readonly RejectedPolicy[] {
    return this.#rejected.filter((r) => r.ref.kind === "ClusterTokenPolicy" || r.ref.namespace === namespace);
  }

  /** ClusterTokenPolicies whose guardrails failed to compile: while any exists, TokenPolicies grant nothing. */
  rejectedGuardrails(): readonly RejectedPolicy[] {
    return this.#rejected.filter((r) => r.ref.kind === "ClusterTokenPolicy" && r.hasGuardrails === true);
  }

  /** The combined guardrails over TokenPolicies of a namespace with these labels. */
  guardrailsFor(namespaceLabels: Readonly<Record<string, string>>): EffectiveGuardrails {
    return combineGuardrails(this.#guardrails, namespaceLabels);
  }

  get(ref: Pick<PolicyRef, "kind" | "namespace" | "name">): CompiledPolicy | undefined {
    const key = refKey({ ...ref, generation: 0 });
    return this.#all.find((p) => refKey(p.ref) === key);
  }

  /** The policy that applies to this subject and request, in documented precedence (see match.ts). */
  match(subject: Subject, request: TokenRequest): MatchResult {
    return match(this, subject, request);
  }
}

/** Higher priority first, then name; namespaced lists hold one namespace, so name is unique within a list. */
function byPrecedence(a: CompiledPolicy, b: CompiledPolicy): number {
  return b.priority - a.priority || (a.ref.name < b.ref.name ? -1 : a.ref.name > b.ref.name ? 1 : 0);
}
