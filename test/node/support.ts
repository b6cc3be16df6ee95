// What node-tier tests share: the node as the global setup provided it, and admin clients for its cluster.
import { inject } from "vitest";
import type { NodeTier } from "./global-setup.ts";

export function nodeTier(): NodeTier {
  return inject("nodeTier");
}

/** The node, for tests that run only when it is there (callers skip on `available: false`). */
export function requireNode(): Extract<NodeTier, { available: true }> {
  const tier = nodeTier();
  if (!tier.available) throw new Error(`no node: ${tier.reason}`);
  return tier;
}
