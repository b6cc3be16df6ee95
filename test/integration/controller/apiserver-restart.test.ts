// Watches survive an apiserver outage: a private control plane's apiserver is stopped for 20 s and started again.
import { CustomObjectsApi, CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_GROUP, API_VERSION, RESOURCE_TOKEN_POLICIES } from "../../../api/constants.ts";
import type { TokenPolicy } from "../../../api/token-policy.ts";
import type { ControllerCore } from "../../../controller/src/reconcile/controller.ts";
import { startControlPlane, type ControlPlane } from "../../controlplane/harness.ts";
import { applyCrds, controlPlaneInfo, freshNamespace, kubeClients, teardownSteps, waitFor } from "../support/index.ts";
import { startController } from "./start-controller.ts";

const OUTAGE_MS = 20_000;
let plane: ControlPlane;
let kubeConfig: KubeConfig;
let core: ControllerCore<unknown, unknown>;
let ns: string;

function custom(): CustomObjectsApi {
  return kubeConfig.makeApiClient(CustomObjectsApi);
}

async function readPolicy(name: string): Promise<TokenPolicy> {
  return (await custom().getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: ns, plural: RESOURCE_TOKEN_POLICIES, name })) as TokenPolicy;
}

async function setExpression(name: string, expression: string): Promise<void> {
  await custom().patchNamespacedCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    namespace: ns,
    plural: RESOURCE_TOKEN_POLICIES,
    name,
    body: [{ op: "replace", path: "/spec/claims/0/expression", value: expression }],
  });
}

async function eventCount(reason: string): Promise<number> {
  const list = await kubeConfig.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns });
  return list.items.filter((e) => e.reason === reason).length;
}

const accepted = (p: TokenPolicy) => p.status?.conditions?.find((c) => c.type === "Accepted");

beforeAll(async () => {
  plane = await startControlPlane({ binaries: controlPlaneInfo().binaries });
  kubeConfig = plane.kubeConfig;
  const clients = kubeClients(kubeConfig);
  await applyCrds(clients);
  const controllerNs = await freshNamespace("tessera-outage", {}, clients);
  ns = await freshNamespace("outage", {}, clients);
  core = (await startController(kubeConfig, controllerNs, "replica-a"));
  await waitFor(() => core.leader.isLeader(), { description: "leadership" });
}, 180_000);

afterAll(async () => {
  await teardownSteps([
    ["the controller's stop", () => core.stop()],
    ["the control plane's stop", () => plane.stop()],
  ]);
});

describe("an apiserver outage", () => {
  it("resumes watches, reconciles a change made after the restart, and writes no duplicate Events", async () => {
    await custom().createNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace: ns,
      plural: RESOURCE_TOKEN_POLICIES,
      body: {
        apiVersion: `${API_GROUP}/${API_VERSION}`,
        kind: "TokenPolicy",
        metadata: { name: "orders", namespace: ns },
        spec: { owner: { team: "orders" }, subjects: { serviceAccounts: ["orders"] }, audiences: ["https://orders.example"], claims: [{ name: "ns", expression: "namespace.name" }] },
      },
    });
    await waitFor(async () => accepted(await readPolicy("orders"))?.status === "True", { description: "Accepted before the outage" });
    await setExpression("orders", "namspace.name");
    await waitFor(async () => (await eventCount("PolicyCompileFailed")) === 1, { description: "one PolicyCompileFailed before the outage" });
    // The apiserver lists the Event a moment before the recorder has counted its write: wait for the count too.
    await waitFor(() => core.events.written >= 1, { description: "the PolicyCompileFailed write counted" });
    const restartsBefore = core.tokenPolicies.restarts;
    const writesBefore = core.events.written;

    await plane.stopApiserver();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await plane.startApiserver();

    // A change made after the restart must be reconciled: the policy is fixed.
    await setExpression("orders", "namespace.name");
    await waitFor(async () => accepted(await readPolicy("orders"))?.status === "True", { timeoutMs: 30_000, description: "Accepted after the restart" });
    expect(core.tokenPolicies.restarts).toBeGreaterThan(restartsBefore);
    expect(core.hasSynced()).toBe(true);
    // The relist after the outage re-delivered every object; none of it may repeat an Event.
    await waitFor(async () => (await eventCount("PolicyAccepted")) === 1, { description: "one PolicyAccepted after the fix" });
    expect(await eventCount("PolicyCompileFailed")).toBe(1);
    expect(core.events.written - writesBefore).toBe(1);
  }, 120_000);
});
