// Guardrail violations and conflicts in policy status against the real apiserver, with one Event each.
import type { CoreV1Event } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_GROUP, API_VERSION, RESOURCE_CLUSTER_TOKEN_POLICIES, RESOURCE_TOKEN_POLICIES } from "../../../api/constants.ts";
import type { ClusterTokenPolicy, TokenPolicy } from "../../../api/token-policy.ts";
import type { ControllerCore } from "../../../controller/src/reconcile/controller.ts";
import { applyCrds, createPod, createServiceAccount, freshNamespace, kubeClients, waitFor } from "../support/index.ts";
import { startController } from "./start-controller.ts";

const clients = kubeClients();
const RESERVED = `https://apiserver-${Math.random().toString(36).slice(2, 8)}.example`;
let core: ControllerCore<unknown, unknown>;
let ns: string;
let clusterPolicyName: string;

async function createTokenPolicy(name: string, audience: string): Promise<void> {
  await clients.custom.createNamespacedCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    namespace: ns,
    plural: RESOURCE_TOKEN_POLICIES,
    body: {
      apiVersion: `${API_GROUP}/${API_VERSION}`,
      kind: "TokenPolicy",
      metadata: { name, namespace: ns },
      spec: { owner: { team: "t" }, subjects: { serviceAccounts: ["app"] }, audiences: [audience] },
    },
  });
}

async function tokenPolicy(name: string): Promise<TokenPolicy> {
  return (await clients.custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: ns, plural: RESOURCE_TOKEN_POLICIES, name })) as TokenPolicy;
}

const cond = (p: { status?: TokenPolicy["status"] }, type: string) => p.status?.conditions?.find((c) => c.type === type);

async function events(reason: string): Promise<CoreV1Event[]> {
  return (await clients.core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.reason === reason);
}

beforeAll(async () => {
  await applyCrds(clients);
  const controllerNs = await freshNamespace("tessera-guard");
  ns = await freshNamespace("guarded");
  await createServiceAccount(ns, "app", clients);
  await createPod(ns, { name: "app", serviceAccountName: "app" }, clients);
  clusterPolicyName = `reserve-${ns}`;
  await clients.custom.createClusterCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    plural: RESOURCE_CLUSTER_TOKEN_POLICIES,
    body: {
      apiVersion: `${API_GROUP}/${API_VERSION}`,
      kind: "ClusterTokenPolicy",
      metadata: { name: clusterPolicyName },
      spec: { owner: { team: "platform" }, guardrails: { reservedAudiences: [RESERVED] } },
    },
  });
  core = await startController(clients.kubeConfig, controllerNs, "replica-a");
  await waitFor(() => core.leader.isLeader(), { description: "leadership" });
});

afterAll(async () => {
  await core.stop();
  await clients.custom.deleteClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: RESOURCE_CLUSTER_TOKEN_POLICIES, name: clusterPolicyName });
});

describe("guardrails and conflicts in status", () => {
  it("accepts a guardrails-only ClusterTokenPolicy", async () => {
    const p = await waitFor(async () => {
      const cur = (await clients.custom.getClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: RESOURCE_CLUSTER_TOKEN_POLICIES, name: clusterPolicyName })) as ClusterTokenPolicy;
      return cond(cur, "Accepted") === undefined ? undefined : cur;
    }, { description: "ClusterTokenPolicy status" });
    expect(cond(p, "Accepted")?.status).toBe("True");
  });

  it("refuses a TokenPolicy that grants a reserved audience, with the field path, and one Event", async () => {
    await createTokenPolicy("grabs-reserved", RESERVED);
    const p = await waitFor(async () => {
      const cur = await tokenPolicy("grabs-reserved");
      return cond(cur, "Accepted") === undefined ? undefined : cur;
    }, { description: "status on the violating policy" });
    expect(cond(p, "Accepted")).toMatchObject({ status: "False", reason: "GuardrailViolation" });
    expect(cond(p, "Accepted")?.message).toContain("spec.audiences[0]");
    await waitFor(async () => (await events("GuardrailViolation")).length === 1, { description: "one GuardrailViolation event" });
  });

  it("marks two same-priority policies granting the same audience to the same pod as conflicting", async () => {
    await createTokenPolicy("first", "https://shared.example");
    await createTokenPolicy("second", "https://shared.example");
    for (const name of ["first", "second"]) {
      const p = await waitFor(async () => {
        const cur = await tokenPolicy(name);
        return cond(cur, "Ready")?.reason === "Conflict" ? cur : undefined;
      }, { description: `${name} Ready=False/Conflict` });
      expect(cond(p, "Accepted")?.status).toBe("True");
      expect(cond(p, "Ready")?.message).toContain(`pod ${ns}/app`);
    }
    await waitFor(async () => (await events("PolicyConflict")).length === 2, { description: "one PolicyConflict event per policy" });
  });
});
