// The shape of the scale part's cluster (namespaces, pods, policies) and which pods it samples: pure, unit-tested.

export interface ScaleShape {
  readonly namespaces: number;
  readonly podsPerNamespace: number;
  /** TokenPolicies plus ClusterTokenPolicies. */
  readonly policies: number;
  readonly clusterPolicies: number;
}

export const SCALE_SHAPE: ScaleShape = { namespaces: 100, podsPerNamespace: 100, policies: 1000, clusterPolicies: 50 };

/** TokenPolicies per namespace: the namespaced share of `shape.policies`, spread so counts differ by at most one. */
export function tokenPoliciesPerNamespace(shape: ScaleShape): number[] {
  const namespaced = shape.policies - shape.clusterPolicies;
  if (shape.namespaces <= 0 || namespaced < shape.namespaces) throw new RangeError(`${namespaced} TokenPolicies cannot give each of ${shape.namespaces} namespaces one`);
  const base = Math.floor(namespaced / shape.namespaces);
  const extra = namespaced % shape.namespaces;
  return Array.from({ length: shape.namespaces }, (_, i) => base + (i < extra ? 1 : 0));
}

/** `count` indices evenly spread over 0..total-1 (every one when count ≥ total), so a sample touches every namespace. */
export function spreadSample(total: number, count: number): number[] {
  if (count >= total) return Array.from({ length: Math.max(0, total) }, (_, i) => i);
  return Array.from({ length: count }, (_, i) => Math.floor((i * total) / count));
}
