// Policy status against the real apiserver: conditions appear, change as a policy breaks and is fixed, uninjected pods are flagged.
import type { CoreV1Event } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_GROUP, API_VERSION, INJECT_ENABLED, LABEL_INJECT, RESOURCE_TOKEN_POLICIES } from "../../../api/constants.ts";
import type { TokenPolicy } from "../../../api/token-policy.ts";
import type { ControllerCore } from "../../../controller/src/reconcile/controller.ts";
import { controllerMetrics, type ControllerMetrics } from "../../../controller/src/reconcile/metrics.ts";
import { applyCrds, createPod, createServiceAccount, freshNamespace, kubeClients, waitFor } from "../support/index.ts";
import { startController } from "./start-controller.ts";

/**
 * Follows the controller's TokenPolicy work queue through its metrics. Idle means nothing is queued and every key
 * handed to a worker has finished: any key queued before that point has been reconciled. (A key queued while it is
 * being reconciled goes back on the queue in the same step that reports the reconcile finished, so idle cannot be
 * seen in between.)
 */
function tokenPolicyWork(base: ControllerMetrics) {
  let queued = 0;
  let handedOut = 0;
  let finished = 0;
  let failed = 0;
  const metrics: ControllerMetrics = {
    ...base,
    queue(name) {
      const queue = base.queue(name);
      if (name !== "tokenpolicy") return queue;
      return {
        depth: (n) => {
          queued = n;
          queue.depth(n);
        },
        queueLatency: (seconds) => {
          handedOut++;
          queue.queueLatency(seconds);
        },
      };
    },
    worker: {
      reconciled: (controller, seconds, outcome) => {
        if (controller === "tokenpolicy") {
          finished++;
          if (outcome === "error") failed++;
        }
        base.worker.reconciled(controller, seconds, outcome);
      },
    },
  };
  return { metrics, idle: () => queued === 0 && handedOut === finished, failures: () => failed };
}

const clients = kubeClients();
const work = tokenPolicyWork(controllerMetrics(new Registry()));
let core: ControllerCore<unknown, unknown>;
let controllerNs: string;
let ns: string;

function policy(name: string, claimExpression: string): Record<string, unknown> {
  return {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: "TokenPolicy",
    metadata: { name, namespace: ns },
    spec: {
      owner: { team: "checkout" },
      subjects: { serviceAccounts: ["checkout-api"] },
      audiences: ["https://payments.internal.example"],
      claims: [{ name: "tenant", expression: claimExpression }],
    },
  };
}

async function readPolicy(name: string): Promise<TokenPolicy> {
  return (await clients.custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: ns, plural: RESOURCE_TOKEN_POLICIES, name })) as TokenPolicy;
}

function condition(p: TokenPolicy, type: string) {
  return p.status?.conditions?.find((c) => c.type === type);
}

async function events(namespace: string, reason: string): Promise<CoreV1Event[]> {
  return (await clients.core.listNamespacedEvent({ namespace })).items.filter((e) => e.reason === reason);
}

beforeAll(async () => {
  await applyCrds(clients);
  controllerNs = await freshNamespace("tessera-system");
  ns = await freshNamespace("status");
  await createServiceAccount(ns, "checkout-api", clients);
  core = await startController(clients.kubeConfig, controllerNs, "replica-a", { metrics: work.metrics });
  await waitFor(() => core.leader.isLeader(), { description: "the only replica to lead" });
});

afterAll(async () => {
  await core.stop();
});

describe("TokenPolicy status", () => {
  it("marks a valid policy Accepted and Ready with the observed generation", async () => {
    await clients.custom.createNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: ns, plural: RESOURCE_TOKEN_POLICIES, body: policy("payments", 'namespace.labels["tessera.dev/tenant"]') });
    const p = await waitFor(async () => {
      const cur = await readPolicy("payments");
      return condition(cur, "Accepted")?.status === "True" && condition(cur, "Ready")?.status === "True" ? cur : undefined;
    }, { description: "Accepted=True" });
    expect(condition(p, "Accepted")).toMatchObject({ reason: "Accepted", observedGeneration: p.metadata.generation });
    expect(p.status?.podsMatched).toBe(0);
  });

  it("turns Accepted False with the compile error when an expression breaks, and says so once in an Event", async () => {
    await clients.custom.patchNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace: ns,
      plural: RESOURCE_TOKEN_POLICIES,
      name: "payments",
      body: [{ op: "replace", path: "/spec/claims/0/expression", value: 'namspace.labels["tessera.dev/tenant"]' }],
    });
    const p = await waitFor(async () => {
      const cur = await readPolicy("payments");
      return condition(cur, "Accepted")?.status === "False" ? cur : undefined;
    }, { description: "Accepted=False" });
    expect(condition(p, "Accepted")).toMatchObject({ reason: "CompileFailed", observedGeneration: p.metadata.generation });
    expect(condition(p, "Accepted")?.message).toContain("spec.claims[0].expression");
    expect(condition(p, "Ready")).toMatchObject({ status: "False", reason: "NotAccepted" });
    await waitFor(async () => (await events(ns, "PolicyCompileFailed")).length === 1, { description: "one PolicyCompileFailed event" });
  });

  it("returns to Accepted True when the expression is fixed", async () => {
    await clients.custom.patchNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace: ns,
      plural: RESOURCE_TOKEN_POLICIES,
      name: "payments",
      body: [{ op: "replace", path: "/spec/claims/0/expression", value: 'namespace.labels["tessera.dev/tenant"]' }],
    });
    await waitFor(async () => condition(await readPolicy("payments"), "Accepted")?.status === "True", { description: "Accepted=True again" });
    await waitFor(async () => (await events(ns, "PolicyAccepted")).length === 1, { description: "a PolicyAccepted event" });
    expect(await events(ns, "PolicyCompileFailed")).toHaveLength(1);
  });

  it("leaves a settled status alone: no further writes while nothing changes", async () => {
    await waitFor(() => work.idle(), { description: "the earlier changes to be reconciled" });
    const before = (await readPolicy("payments")).metadata.resourceVersion;
    const failuresBefore = work.failures();
    // Pod and namespace churn elsewhere re-enqueues the policy; the reconciles that follow must not write.
    const podSeen = new Promise<void>((resolve) => {
      core.pods.onEvent((e) => {
        if (e.object.metadata.namespace === ns && e.object.metadata.name === "unrelated") resolve();
      });
    });
    await createPod(ns, { name: "unrelated", serviceAccountName: "someone-else" }, clients);
    // The controller's own handlers ran first and queued the policy; once the queue is idle that reconcile is done.
    await podSeen;
    await waitFor(() => work.idle(), { description: "the reconcile the pod event queued" });
    expect(work.failures()).toBe(failuresBefore);
    expect((await readPolicy("payments")).metadata.resourceVersion).toBe(before);
  });

  it("counts a selected pod that opted in but has no sidecar, with one Event on the pod", async () => {
    await createPod(ns, { name: "bypassed", serviceAccountName: "checkout-api", labels: { [LABEL_INJECT]: INJECT_ENABLED } }, clients);
    const p = await waitFor(async () => {
      const cur = await readPolicy("payments");
      return cur.status?.podsUninjected === 1 ? cur : undefined;
    }, { description: "podsUninjected=1" });
    expect(p.status?.podsMatched).toBe(1);
    await waitFor(async () => (await events(ns, "SidecarNotInjected")).filter((e) => e.involvedObject.name === "bypassed").length === 1, { description: "a SidecarNotInjected event" });
  });
});
