// How a policy is named in messages: Kind/name for cluster policies, Kind/namespace/name for namespaced ones.

import type { PolicyRef } from "../../../api/token-policy.ts";

export function formatRef(ref: PolicyRef): string {
  return ref.namespace === undefined ? `${ref.kind}/${ref.name}` : `${ref.kind}/${ref.namespace}/${ref.name}`;
}

/** Identity of a policy regardless of generation. */
export function refKey(ref: PolicyRef): string {
  return `${ref.kind}/${ref.namespace ?? ""}/${ref.name}`;
}
