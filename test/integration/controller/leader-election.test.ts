// Two controller replicas against the real apiserver: only the leader writes status; the other takes over within the lease.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_GROUP, API_VERSION, LEADER_LEASE_NAME, RESOURCE_TOKEN_POLICIES } from "../../../api/constants.ts";
import type { TokenPolicy } from "../../../api/token-policy.ts";
import type { ControllerCore } from "../../../controller/src/reconcile/controller.ts";
import { applyCrds, createServiceAccount, freshNamespace, kubeClients, waitFor } from "../support/index.ts";
import { startController, TEST_TIMING } from "./start-controller.ts";

const clients = kubeClients();
let controllerNs: string;
let ns: string;
const running = new Map<string, ControllerCore<unknown, unknown>>();

function policyBody(name: string, audience: string): Record<string, unknown> {
  return {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: "TokenPolicy",
    metadata: { name, namespace: ns },
    spec: { owner: { team: "ha" }, subjects: { serviceAccounts: ["app"] }, audiences: [audience] },
  };
}

async function createPolicy(name: string): Promise<void> {
  await clients.custom.createNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: ns, plural: RESOURCE_TOKEN_POLICIES, body: policyBody(name, "https://api.example") });
}

/** Field managers that have written the status subresource of a policy. */
async function statusWriters(name: string): Promise<string[]> {
  const p = (await clients.custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: ns, plural: RESOURCE_TOKEN_POLICIES, name })) as TokenPolicy & {
    metadata: { managedFields?: { manager?: string; subresource?: string }[] };
  };
  if (p.status?.conditions === undefined) return [];
  return (p.metadata.managedFields ?? []).filter((f) => f.subresource === "status").map((f) => f.manager ?? "");
}

async function leaseHolder(): Promise<string | undefined> {
  const res = await clients.objects.read({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: LEADER_LEASE_NAME, namespace: controllerNs } });
  return (res as { spec?: { holderIdentity?: string } }).spec?.holderIdentity;
}

async function start(identity: string): Promise<ControllerCore<unknown, unknown>> {
  const core = (await startController(clients.kubeConfig, controllerNs, identity)) as ControllerCore<unknown, unknown>;
  running.set(identity, core);
  return core;
}

function leaders(): string[] {
  return [...running].filter(([, c]) => c.leader.isLeader()).map(([id]) => id);
}

beforeAll(async () => {
  await applyCrds(clients);
  controllerNs = await freshNamespace("tessera-ha");
  ns = await freshNamespace("ha-policies");
  await createServiceAccount(ns, "app", clients);
  await start("replica-a");
  await waitFor(() => leaders().length === 1, { description: "replica-a to lead" });
  await start("replica-b");
});

afterAll(async () => {
  for (const core of running.values()) await core.stop();
});

describe("leader election", () => {
  it("elects exactly one leader, the lease holder", async () => {
    expect(leaders()).toEqual(["replica-a"]);
    expect(await leaseHolder()).toBe("replica-a");
  });

  it("lets only the leader write policy status", async () => {
    await createPolicy("first");
    await waitFor(async () => (await statusWriters("first")).length > 0, { description: "a status write" });
    expect(await statusWriters("first")).toEqual(["tessera-replica-a"]);
  });

  it("hands over within the lease duration when the leader disappears without releasing", async () => {
    const a = running.get("replica-a");
    running.delete("replica-a");
    await a?.stop({ releaseLease: false });
    // Bound: the lease duration, plus one retry period for the follower to notice, plus one for its write.
    await waitFor(() => leaders().includes("replica-b"), {
      timeoutMs: TEST_TIMING.leaseDurationMs + 2 * TEST_TIMING.retryPeriodMs + 1_000,
      intervalMs: 100,
      description: "replica-b to take over",
    });
    expect(await leaseHolder()).toBe("replica-b");
    await createPolicy("second");
    await waitFor(async () => (await statusWriters("second")).length > 0, { description: "a status write by the new leader" });
    expect(await statusWriters("second")).toEqual(["tessera-replica-b"]);
  });

  it("hands over at once when the leader stops gracefully and releases the lease", async () => {
    await start("replica-c");
    const b = running.get("replica-b");
    running.delete("replica-b");
    await b?.stop();
    await waitFor(() => leaders().includes("replica-c"), { timeoutMs: 3 * TEST_TIMING.retryPeriodMs + 1_000, intervalMs: 100, description: "replica-c to take over" });
    expect(await leaseHolder()).toBe("replica-c");
  });
});
