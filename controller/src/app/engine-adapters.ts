// The one place the areas meet the policy engine and the controller's caches: each area's narrow port, implemented.
//
// issuer/, admission/ and reconcile/ are each built against small interfaces of their own (Decider, PolicyCompiler,
// GuardrailChecker, PolicyChooser, ExplainEngine, PolicyEngine, PolicyLookup, PodLookup, DecisionRecorder); this
// module is the only code that knows both sides, so no area imports another area to reach the engine or the caches.
import type { AnyTokenPolicy } from "../../../api/token-policy.ts";
import { KIND_CLUSTER_TOKEN_POLICY } from "../../../api/constants.ts";
import type { PolicyChooser } from "../admission/engine-preview.ts";
import type { GuardrailChecker, PolicyCompiler } from "../admission/validate-policy.ts";
import type { PolicyLookup } from "../issuer/audit/introspection.ts";
import type { Decider } from "../issuer/exchange/decider.ts";
import { capGrantTtl } from "../issuer/exchange/ttl-cap.ts";
import type { ExplainEngine } from "../issuer/explain/explainer.ts";
import { engineOver } from "../issuer/explain/local.ts";
import type { DecisionRecorder } from "../issuer/record/decision-recorder.ts";
import type { NamespaceInfo, NamespaceLookup, PodInfo, PodLookup } from "../issuer/subject/pod-lookup.ts";
import {
  choosePolicy,
  compileContract,
  compilePolicy,
  contractStanding,
  decide,
  isTokenAudience,
  memoizedExpressions,
  PolicySet,
  rejectionOf,
  validateAgainstGuardrails,
  type CompiledContract,
  type CompiledPolicy,
  type NamespaceLabels,
  type RejectedPolicy,
} from "../policy/index.ts";
import type { Caches } from "../reconcile/gather.ts";
import type { IssuanceTracker } from "../reconcile/issuance-tracker.ts";
import type { AuditTracker } from "../reconcile/audit-tracker.ts";
import type { SlimNamespace, SlimPod } from "../reconcile/objects.ts";
import type { CompileOutcome, PolicyEngine } from "../reconcile/policy-engine.ts";
import type { Store } from "../reconcile/store.ts";

/** What the live set compiles each resource to: a policy, or an audience owner's contract. */
export type CompiledResource = CompiledPolicy | CompiledContract;

function isContract(compiled: CompiledResource): compiled is CompiledContract {
  return compiled.ref.kind === "TokenAudience";
}

/** The engine as reconcile sees it: compile once per generation, judge guardrails and contracts, build the live set. */
export function tesseraPolicyEngine(): PolicyEngine<CompiledResource, PolicySet, RejectedPolicy | undefined> {
  // One memo per engine: every policy the controller caches that spells the same expression shares its program.
  const expressions = memoizedExpressions();
  return {
    compile(resource) {
      if (isTokenAudience(resource)) {
        const result = compileContract(resource, expressions);
        // A contract that does not compile admits nobody: its audience's callers are denied until it is fixed.
        return result.ok
          ? { ok: true, compiled: result.contract }
          : { ok: false, errors: result.errors.map((e) => ({ path: e.path, message: e.message })), rejected: undefined };
      }
      const result = compilePolicy(resource, { expressions });
      return result.ok
        ? { ok: true, compiled: result.policy }
        : { ok: false, errors: result.errors.map((e) => ({ path: e.path, message: e.message })), rejected: rejectionOf(result) };
    },
    guardrailViolations(compiled, set, namespaceLabels) {
      if (isContract(compiled)) return [];
      // Only "deny" makes a policy unacceptable; "narrow" (e.g. a TTL clamped) is applied at issuance and stays allowed.
      return validateAgainstGuardrails(compiled, set, namespaceLabels)
        .filter((v) => v.effect === "deny")
        .map((v) => ({ path: v.path, message: v.message }));
    },
    buildSet(compiled, rejected) {
      const policies: CompiledPolicy[] = [];
      const contracts: CompiledContract[] = [];
      for (const c of compiled) {
        if (isContract(c)) contracts.push(c);
        else policies.push(c);
      }
      return PolicySet.from(policies, rejected.filter((r) => r !== undefined), contracts);
    },
    contractStanding(compiled, set, namespaceLabels) {
      return isContract(compiled) ? contractStanding(compiled, set, namespaceLabels) : undefined;
    },
  };
}

/**
 * The exchange's Decider over the PolicySet `policies` returns on each call (the live one, in the controller), with
 * namespace labels from the controller's cache so an operator's rule can find the namespace that owns an audience.
 */
export function engineDecider(policies: () => PolicySet, namespaceLabels?: NamespaceLabels): Decider {
  return {
    decide: (input) => decide({ ...input, policies: policies(), ...(namespaceLabels === undefined ? {} : { namespaceLabels }) }),
  };
}

/** Explain answers what the exchange would: the live PolicySet, then the issuer's own TTL cap. */
export function cappedExplainEngine(policies: () => PolicySet, maxTokenTtlSeconds: number, namespaceLabels?: NamespaceLabels): ExplainEngine {
  return {
    explain(input) {
      const explained = engineOver(policies(), namespaceLabels).explain(input);
      return { ...explained, decision: capGrantTtl(explained.decision, maxTokenTtlSeconds) };
    },
  };
}

export const enginePolicyCompiler: PolicyCompiler = {
  compile(resource) {
    const result = isTokenAudience(resource) ? compileContract(resource) : compilePolicy(resource);
    return result.ok ? [] : result.errors;
  },
};

/** Compile outcomes the controller already holds for stored policies (LivePolicySet.peek), keyed by generation. */
export interface StoredCompiles {
  peek(policy: AnyTokenPolicy): CompileOutcome<CompiledResource> | undefined;
}

/**
 * Guardrail checks for the validating webhook; `namespaceLabels` comes from the controller's namespace cache
 * (guardrails select namespaces by label). Policies the controller has already compiled at this generation are read
 * from `stored` instead of compiled again, so a review compiles at most the policy under review, whatever the number
 * of policies in the cluster; anything else (a new generation, no controller in tests) is compiled on the spot.
 */
export function engineGuardrailChecker(
  namespaceLabels: (namespace: string) => Readonly<Record<string, string>> | undefined,
  stored?: StoredCompiles,
): GuardrailChecker {
  const compiled = (policy: AnyTokenPolicy): CompiledPolicy | undefined => {
    const held = stored?.peek(policy);
    if (held !== undefined) return held.ok && !isContract(held.compiled) ? held.compiled : undefined;
    const result = compilePolicy(policy);
    return result.ok ? result.policy : undefined;
  };
  return {
    violations(policy, current) {
      const candidate = compiled(policy);
      // A policy that does not compile is refused for that already; guardrails cannot be judged.
      if (candidate === undefined) return [];
      // Only ClusterTokenPolicies carry guardrails, and only the guardrails of a set are read here.
      const guardrails = current.flatMap((p) => {
        if (p.kind !== KIND_CLUSTER_TOKEN_POLICY || p.spec.guardrails === undefined) return [];
        const c = compiled(p);
        return c === undefined ? [] : [c];
      });
      const labels = namespaceLabels(policy.metadata.namespace ?? "") ?? {};
      return validateAgainstGuardrails(candidate, PolicySet.from(guardrails), labels);
    },
  };
}

/** A PolicyChooser over the policy set the controller currently holds (the same one issuance decides with). */
export function enginePolicyChooser(policies: () => PolicySet): PolicyChooser {
  return {
    choose(subject, request) {
      return choosePolicy(subject, request, policies());
    },
  };
}

/**
 * Feeds each allowed issuance into the tracker that policy status reads lastIssuanceTime from, and each denial
 * for the CEL cost budget into the WithinCostBudget condition of the policy that ran out.
 */
export function issuanceRecorder(tracker: Pick<IssuanceTracker, "record" | "recordCostLimit">): DecisionRecorder {
  return {
    record(decision) {
      if (decision.allowed) tracker.record(decision.policy, new Date(decision.at));
      else if (decision.reason === "CostLimitExceeded" && decision.policy !== undefined) {
        tracker.recordCostLimit(decision.policy, new Date(decision.at), decision.message);
      }
    },
  };
}

/** Longest audit example message kept in status (the CRD's bound). */
const MAX_EXAMPLE_MESSAGE = 1024;

/**
 * Feeds each request an audited rule would have changed into the tally that status.audit reads: who asked for
 * what and what the rule would have done, never a token.
 */
export function auditRecorder(tracker: Pick<AuditTracker, "record">): DecisionRecorder {
  return {
    record(decision) {
      for (const entry of decision.audit ?? []) {
        const { wouldHave } = entry;
        if (wouldHave !== "denied" && wouldHave !== "clamped" && wouldHave !== "granted") continue;
        const { kind, namespace, name, generation, rule } = entry.rule;
        const sa = decision.subject.serviceAccount;
        const message = entry.message ?? "";
        tracker.record({
          resource: { kind, name, ...(namespace === undefined ? {} : { namespace }) },
          generation,
          example: {
            time: decision.at,
            rule,
            wouldHave,
            reason: (entry.reason ?? "").slice(0, 64),
            subject: `${sa.namespace}/${sa.name} (pod ${decision.subject.pod.name})`,
            audiences: decision.request.audiences,
            scopes: decision.request.scopes,
            message: message.length > MAX_EXAMPLE_MESSAGE ? `${message.slice(0, MAX_EXAMPLE_MESSAGE - 3)}...` : message,
          },
        });
      }
    },
  };
}

/** Introspection's policy lookup, answered from the controller's policy caches. */
export function cachePolicyLookup(caches: Pick<Caches, "tokenPolicies" | "clusterTokenPolicies">): PolicyLookup {
  return {
    get: (ref) =>
      ref.kind === "TokenPolicy" ? caches.tokenPolicies.get(`${ref.namespace ?? ""}/${ref.name}`) : caches.clusterTokenPolicies.get(ref.name),
  };
}

/** Policies by reference as the live PolicySet holds them (a rejected policy reads as gone: its tokens are not trusted). */
export function policySetLookup(policies: () => PolicySet): PolicyLookup {
  return { get: (ref) => policies().get(ref)?.source };
}

/** Every policy in the controller's caches, as the validating webhook lists them. */
export function cachePolicySource(caches: Pick<Caches, "tokenPolicies" | "clusterTokenPolicies">): { list(): readonly AnyTokenPolicy[] } {
  return { list: () => [...caches.tokenPolicies.list(), ...caches.clusterTokenPolicies.list()] };
}

/** A cached pod as the issuer reads it. */
function podInfoFromCache(pod: SlimPod): PodInfo {
  return {
    namespace: pod.metadata.namespace ?? "",
    name: pod.metadata.name,
    uid: pod.metadata.uid,
    serviceAccountName: pod.serviceAccountName,
    labels: pod.metadata.labels,
    annotations: pod.metadata.annotations,
    ...(pod.nodeName === undefined ? {} : { nodeName: pod.nodeName }),
    ...(pod.metadata.deletionTimestamp === undefined ? {} : { deletionTimestamp: pod.metadata.deletionTimestamp }),
    ...(pod.phase === undefined ? {} : { phase: pod.phase }),
    ...(pod.owner === undefined ? {} : { owner: pod.owner }),
  };
}

/** The issuer's PodLookup, answered synchronously from the pod informer's cache. */
export function cachePodLookup(pods: Store<SlimPod>): PodLookup {
  return {
    get(namespace, name) {
      const pod = pods.get(`${namespace}/${name}`);
      return pod === undefined ? undefined : podInfoFromCache(pod);
    },
  };
}

/** The issuer's NamespaceLookup, answered from the namespace informer's cache. */
export function cacheNamespaceLookup(namespaces: Store<SlimNamespace>): NamespaceLookup {
  return {
    get(name): NamespaceInfo | undefined {
      const ns = namespaces.get(name);
      return ns === undefined ? undefined : { name, labels: ns.metadata.labels };
    },
  };
}
