// Whether a contract decides for its audience: what its Owner status condition says, from the same rules decide uses.
import type { PolicySet } from "../policy-set.ts";
import type { CompiledContract } from "./contract.ts";
import { resolveOwner, type NamespaceLabels } from "./owner.ts";
import { resourceRuleKey } from "../enforcement.ts";

export interface Standing {
  readonly owner: boolean;
  /** Owner, NotAssigned (another namespace, the cluster or nobody decides), or Contested (another contract claims it too). */
  readonly reason: "Owner" | "NotAssigned" | "Contested";
  readonly message: string;
}

export function contractStanding(contract: CompiledContract, set: PolicySet, namespaceLabels: NamespaceLabels): Standing {
  const { audience, ref } = contract;
  const ownership = set.ownershipOf(audience);
  // An audited contract's standing is the one it would have if enforced, so its owner knows whether switching counts.
  const asEnforced = contract.audited === true ? resourceRuleKey(contract.ref) : undefined;
  const result = resolveOwner(audience, ownership, (a) => set.contractsFor(a, asEnforced), namespaceLabels);
  if (!result.ok) {
    const contested = result.message.includes("claimed by both") || ownership.kind === "Conflict";
    return { owner: false, reason: contested ? "Contested" : "NotAssigned", message: result.message };
  }
  const { owner } = result;
  if (owner.kind === "Contract" && owner.contract.ref.namespace === ref.namespace && owner.contract.ref.name === ref.name) {
    return { owner: true, reason: "Owner", message: `decides who may hold audience '${audience}' (assigned by ${owner.assignedBy})` };
  }
  const decider =
    owner.kind === "Contract"
      ? `TokenAudience ${owner.contract.ref.namespace}/${owner.contract.ref.name} decides for it`
      : owner.kind === "Cluster"
        ? `the operators own it (${owner.by}); only ClusterTokenPolicies grant it`
        : `it is open (${owner.by}); no contract is consulted`;
  return {
    owner: false,
    reason: "NotAssigned",
    message: `namespace ${ref.namespace} is not assigned audience '${audience}': ${decider}; this contract is not consulted`,
  };
}
