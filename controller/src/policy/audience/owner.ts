// Resolves who decides for one audience in one decision: an owner's contract, the operator, or nobody (open).
//
// An operator's rule or a Service URL names the namespaces that may own an audience; among them, the one that
// publishes a TokenAudience for it is the owner. A TokenAudience anywhere else claims nothing, so a team cannot
// squat another team's audience by publishing a contract for it.

import type { DenialReason } from "../types.ts";
import type { CompiledContract } from "./contract.ts";
import type { Ownership } from "./ownership.ts";

export type Labels = Readonly<Record<string, string>>;
/** Labels of a namespace by name, undefined when the namespace is not known. */
export type NamespaceLabels = (namespace: string) => Labels | undefined;

/** Who decides for an audience. */
export type AudienceOwner =
  | { readonly kind: "Contract"; readonly audience: string; readonly contract: CompiledContract; readonly assignedBy: string }
  | { readonly kind: "Cluster"; readonly audience: string; readonly by: string }
  | { readonly kind: "Open"; readonly audience: string; readonly by: string };

export type OwnerResult =
  | { readonly ok: true; readonly owner: AudienceOwner }
  | { readonly ok: false; readonly reason: DenialReason; readonly message: string };

const HOW_TO_CLAIM =
  "its owner publishes a TokenAudience for it in a namespace an operator assigns it to (ClusterTokenPolicy " +
  "spec.audienceOwnership), or an operator marks it Open";

export function resolveOwner(
  audience: string,
  ownership: Ownership,
  contractsFor: (audience: string) => readonly CompiledContract[],
  namespaceLabels: NamespaceLabels,
): OwnerResult {
  switch (ownership.kind) {
    case "Unowned":
      return unowned(`nobody owns audience '${audience}': ${HOW_TO_CLAIM}`);
    case "Conflict":
      return unowned(
        `ownership of audience '${audience}' is contested: ${ownership.by[0]} and ${ownership.by[1]} assign it ` +
          "differently with equal specificity; an operator must settle it",
      );
    case "Cluster":
      return { ok: true, owner: { kind: "Cluster", audience, by: ownership.by } };
    case "Open":
      return { ok: true, owner: { kind: "Open", audience, by: ownership.by } };
    case "Service": {
      const mine = contractsFor(audience).filter((c) => c.ref.namespace === ownership.namespace);
      return oneContract(audience, mine, `its Service URL (namespace ${ownership.namespace})`, `namespace ${ownership.namespace}`);
    }
    case "Namespaces": {
      const mine = contractsFor(audience).filter((c) => {
        const labels = namespaceLabels(c.ref.namespace);
        return labels !== undefined && ownership.selector.matches(labels);
      });
      return oneContract(audience, mine, ownership.by, `the namespaces ${ownership.by} assigns it to`);
    }
  }
}

function oneContract(audience: string, contracts: readonly CompiledContract[], assignedBy: string, where: string): OwnerResult {
  const [only, other] = contracts;
  if (only === undefined) {
    return unowned(`audience '${audience}' belongs to ${where}, but no TokenAudience there defines it yet: ${HOW_TO_CLAIM}`);
  }
  if (other !== undefined) {
    return unowned(
      `audience '${audience}' is claimed by both TokenAudience ${other.ref.namespace}/${other.ref.name} and ` +
        `${only.ref.namespace}/${only.ref.name}, in namespaces assigned by ${assignedBy}; one must withdraw`,
    );
  }
  return { ok: true, owner: { kind: "Contract", audience, contract: only, assignedBy } };
}

function unowned(message: string): OwnerResult {
  return { ok: false, reason: "AudienceUnowned", message };
}

/** How a contract's owner is named in messages: the contract, the team and how to reach it. */
export function describeOwner(contract: CompiledContract): string {
  const { owner, ref } = contract;
  const contact = owner.contact === undefined ? "" : `, contact ${owner.contact}`;
  return `TokenAudience ${ref.namespace}/${ref.name} (team ${owner.team}${contact})`;
}
