// Builders for policies and subjects used across the policy engine tests.

import type {
  ClusterTokenPolicy,
  ClusterTokenPolicySpec,
  TokenPolicy,
  TokenPolicySpec,
  AnyTokenPolicy,
} from "../../../api/token-policy.ts";
import { PolicySet, compilePolicy, type CompiledPolicy } from "../../../controller/src/policy/index.ts";
import type { Actor, Subject, TokenRequest } from "../../../controller/src/policy/types.ts";

export const NOW = new Date("2026-01-02T03:04:05.000Z");

export function tokenPolicy(
  name: string,
  spec: Partial<TokenPolicySpec> = {},
  namespace = "payments",
  generation = 1,
): TokenPolicy {
  return {
    apiVersion: "tessera.dev/v1alpha1",
    kind: "TokenPolicy",
    metadata: { name, namespace, generation },
    spec: {
      owner: { team: "payments" },
      subjects: { serviceAccounts: ["api"] },
      audiences: ["https://ledger.internal"],
      ...spec,
    },
  };
}

export function clusterPolicy(name: string, spec: Partial<ClusterTokenPolicySpec> = {}, generation = 1): ClusterTokenPolicy {
  return {
    apiVersion: "tessera.dev/v1alpha1",
    kind: "ClusterTokenPolicy",
    metadata: { name, generation },
    spec: { owner: { team: "platform" }, ...spec },
  };
}

export function compiled(obj: AnyTokenPolicy): CompiledPolicy {
  const result = compilePolicy(obj);
  if (!result.ok) throw new Error(`fixture does not compile: ${JSON.stringify(result.errors)}`);
  return result.policy;
}

/**
 * An operator's ownership rule that opens every audience, so tests of the caller's side (matching, conditions,
 * guardrails) need no contract. Tests of the owner's side build their sets with ownedSet (audience-fixtures.ts).
 */
export const OPEN_EVERY_AUDIENCE = clusterPolicy("open-every-audience", {
  audienceOwnership: [{ allAudiences: true, ownedBy: "Open" }],
});

/** The policies, every audience open (OPEN_EVERY_AUDIENCE). */
export function policySet(...objs: AnyTokenPolicy[]): PolicySet {
  return PolicySet.from([...objs, OPEN_EVERY_AUDIENCE].map(compiled));
}

export interface SubjectOptions {
  readonly namespace?: string;
  readonly serviceAccount?: string;
  readonly namespaceLabels?: Record<string, string>;
  readonly podLabels?: Record<string, string>;
  readonly actors?: readonly Actor[];
  readonly environment?: string;
  readonly owner?: { apiVersion: string; kind: string; name: string };
}

export function subject(o: SubjectOptions = {}): Subject {
  const namespace = o.namespace ?? "payments";
  return {
    serviceAccount: { namespace, name: o.serviceAccount ?? "api" },
    namespace: { name: namespace, labels: o.namespaceLabels ?? { "tessera.dev/tenant": "acme" } },
    pod: {
      name: "api-7d9f",
      uid: "0b6c1f0e-1111-2222-3333-444455556666",
      labels: o.podLabels ?? { app: "api" },
      annotations: {},
      nodeName: "node-1",
      ...(o.owner === undefined ? {} : { owner: o.owner }),
    },
    cluster: { name: "eu-1", environment: o.environment ?? "prod" },
    actors: o.actors ?? [],
  };
}

export function request(audiences: readonly string[] = ["https://ledger.internal"], scopes: readonly string[] = []): TokenRequest {
  return { audiences, scopes };
}

export function saActor(namespace: string, name: string): Actor {
  return {
    sub: `system:serviceaccount:${namespace}:${name}`,
    iss: "https://kubernetes.default.svc",
    serviceAccount: { namespace, name },
  };
}
