// The example policies compile with the policy engine, and decide as docs/policy.md and the examples' READMEs say.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { API_GROUP_VERSION } from "../../../api/constants.ts";
import {
  compileContract,
  compilePolicy,
  compilePolicySet,
  decide,
  isTokenAudience,
  type Actor,
  type GovernedResource,
  type PolicySet,
  type Subject,
} from "../../../controller/src/policy/index.ts";
import { EXAMPLE_FOLDERS, EXAMPLES_DIR, loadManifests, yamlFiles } from "./manifests.ts";

const examples = EXAMPLE_FOLDERS.flatMap((folder) =>
  yamlFiles(join(EXAMPLES_DIR, folder))
    .flatMap(loadManifests)
    .filter(({ manifest }) => manifest.apiVersion === API_GROUP_VERSION)
    // The files passed the CRD schema in examples.test.ts; the apiserver stores generation 1 on create.
    .map(({ manifest }) => ({ folder, policy: { ...manifest, metadata: { ...manifest.metadata, generation: 1 } } as unknown as GovernedResource })),
);

function compileAll(): PolicySet {
  const { set, results } = compilePolicySet(examples.map(({ policy }) => policy));
  results.forEach((result, i) => {
    if (!result.ok) throw new Error(`${examples[i]?.policy.metadata.name ?? "?"}: ${JSON.stringify(result.errors)}`);
  });
  return set;
}

const NOW = new Date("2026-03-01T12:00:00Z");

function subject(
  namespace: string,
  namespaceLabels: Record<string, string>,
  serviceAccount: string,
  pod: { labels?: Record<string, string>; owner?: { apiVersion: string; kind: string; name: string } } = {},
  actors: readonly Actor[] = [],
): Subject {
  return {
    serviceAccount: { namespace, name: serviceAccount },
    namespace: { name: namespace, labels: { "kubernetes.io/metadata.name": namespace, ...namespaceLabels } },
    pod: {
      name: `${serviceAccount}-0`,
      uid: "00000000-0000-4000-8000-000000000001",
      labels: pod.labels ?? {},
      annotations: {},
      ...(pod.owner === undefined ? {} : { owner: pod.owner }),
    },
    cluster: { name: "example", environment: "staging" },
    actors,
  };
}

function agent(name: string): Actor {
  return { sub: `system:serviceaccount:agents:${name}`, iss: "https://kubernetes.default.svc", serviceAccount: { namespace: "agents", name } };
}

const checkout = (labels: Record<string, string>) => subject("checkout", labels, "checkout-api", { labels: { app: "checkout-api" } });
const workspace = (actors: readonly Actor[]) =>
  subject("workspaces", { "tessera.dev/tenant": "acme" }, "workspace", { labels: { "tessera.dev/user": "alice" } }, actors);

describe("the example policies with the policy engine", () => {
  it.each(examples.map(({ folder, policy }) => ({ folder, name: policy.metadata.name, policy })))(
    "$folder: $name compiles",
    ({ policy }) => {
      expect(isTokenAudience(policy) ? compileContract(policy) : compilePolicy(policy)).toMatchObject({ ok: true });
    },
  );

  const policies = compileAll();

  it.each<{ name: string; subject: Subject; audience: string; scopes?: string[]; expected: Record<string, unknown> }>([
    {
      name: "checkout gets a payments token with the default scope and its tenant",
      subject: checkout({ "tessera.dev/tenant": "acme" }),
      audience: "https://payments.internal.example",
      expected: {
        allowed: true,
        policy: { kind: "TokenPolicy", namespace: "checkout", name: "checkout-to-payments" },
        grant: { scopes: ["payments.read"], ttlSeconds: 900, claims: { tenant: "acme", caller: "checkout/checkout-api" } },
      },
    },
    {
      name: "checkout without a tenant label is denied with the condition's message",
      subject: checkout({}),
      audience: "https://payments.internal.example",
      expected: { allowed: false, reason: "ConditionFailed", message: expect.stringContaining("label the namespace with tessera.dev/tenant") },
    },
    {
      name: "checkout asking for a scope the policy does not allow is denied",
      subject: checkout({ "tessera.dev/tenant": "acme" }),
      audience: "https://payments.internal.example",
      scopes: ["payments.refund"],
      expected: { allowed: false, reason: "ScopeNotAllowed" },
    },
    {
      name: "a CI deploy Job gets a kube-apiserver token in its deploy group",
      subject: subject("ci", {}, "deploy", { owner: { apiVersion: "batch/v1", kind: "Job", name: "deploy-42" } }),
      audience: "https://kubernetes.default.svc",
      expected: {
        allowed: true,
        policy: { kind: "ClusterTokenPolicy", name: "ci-deploy-staging" },
        grant: { ttlSeconds: 300, claims: { groups: ["tessera:deploy:staging"] } },
      },
    },
    {
      name: "a pod started by hand with the deploy service account is denied",
      subject: subject("ci", {}, "deploy"),
      audience: "https://kubernetes.default.svc",
      expected: { allowed: false, reason: "ConditionFailed", message: expect.stringContaining("only pods created by a Job may deploy") },
    },
    {
      name: "a pod of a custom resource that is also called Job (not batch/v1) is denied",
      subject: subject("ci", {}, "deploy", { owner: { apiVersion: "batch.volcano.sh/v1alpha1", kind: "Job", name: "deploy-42" } }),
      audience: "https://kubernetes.default.svc",
      expected: { allowed: false, reason: "ConditionFailed", message: expect.stringContaining("only pods created by a Job may deploy") },
    },
    {
      name: "a pod owned by a ReplicaSet with the deploy service account is denied",
      subject: subject("ci", {}, "deploy", { owner: { apiVersion: "apps/v1", kind: "ReplicaSet", name: "deploy-7f" } }),
      audience: "https://kubernetes.default.svc",
      expected: { allowed: false, reason: "ConditionFailed", message: expect.stringContaining("only pods created by a Job may deploy") },
    },
    {
      name: "the deploy service account of another namespace gets nothing",
      subject: subject("staging", {}, "deploy", { owner: { apiVersion: "batch/v1", kind: "Job", name: "deploy-42" } }),
      audience: "https://kubernetes.default.svc",
      expected: { allowed: false, reason: "NoMatchingPolicy" },
    },
    {
      name: "a user's workspace may write to its own calendar",
      subject: workspace([]),
      audience: "https://calendar.internal.example",
      scopes: ["calendar.write"],
      expected: { allowed: true, grant: { scopes: ["calendar.write"], claims: { user: "alice", tenant: "acme" } } },
    },
    {
      name: "the planner acting for the user reads the calendar",
      subject: workspace([agent("planner")]),
      audience: "https://calendar.internal.example",
      expected: { allowed: true, grant: { scopes: ["calendar.read"], ttlSeconds: 300 } },
    },
    {
      name: "the planner acting for the user may not write",
      subject: workspace([agent("planner")]),
      audience: "https://calendar.internal.example",
      scopes: ["calendar.write"],
      expected: { allowed: false, reason: "DelegationNotAllowed", message: expect.stringContaining("calendar.write") },
    },
    {
      name: "an agent the policy does not name may not act",
      subject: workspace([agent("stranger")]),
      audience: "https://calendar.internal.example",
      expected: { allowed: false, reason: "DelegationNotAllowed" },
    },
    {
      name: "the summarizer acting on the planner's behalf is within the chain of two",
      subject: workspace([agent("summarizer"), agent("planner")]),
      audience: "https://calendar.internal.example",
      expected: { allowed: true },
    },
    {
      name: "a third actor in the chain is too many",
      subject: workspace([agent("summarizer"), agent("planner"), agent("planner")]),
      audience: "https://calendar.internal.example",
      expected: { allowed: false, reason: "DelegationChainTooLong" },
    },
    {
      name: "the sandbox notebook's TTL is clamped by the restricted guardrails",
      subject: subject("sandbox", { "tessera.dev/restricted": "true" }, "default", { labels: { app: "notebook" } }),
      audience: "https://ledger.internal.example",
      expected: {
        allowed: true,
        grant: { scopes: ["ledger.read"], ttlSeconds: 300, clamps: [expect.stringContaining("ClusterTokenPolicy/restricted-namespaces")] },
      },
    },
  ])("$name", ({ subject: who, audience, scopes, expected }) => {
    const decision = decide({
      subject: who,
      request: { audiences: [audience], scopes: scopes ?? [] },
      policies,
      now: NOW,
      id: "example",
      // The examples' namespaces carry only the label the apiserver sets; owners are assigned by that name.
      namespaceLabels: (namespace) => (namespace === who.namespace.name ? who.namespace.labels : { "kubernetes.io/metadata.name": namespace }),
    });
    expect(decision).toMatchObject(expected);
  });
});
