// etcd restarted under the real controller process: its watches resume (a pod and a policy made afterwards are
// seen), known pods keep getting tokens, and nothing it had already reconciled is written again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_GROUP, API_VERSION, RESOURCE_TOKEN_POLICIES } from "../../../api/constants.ts";
import type { TokenPolicy } from "../../../api/token-policy.ts";
import type { SpawnedController } from "../support/controller-launcher.ts";
import { oauthError, type IssuerHttp } from "../support/issuer-http.ts";
import { steadyLoad } from "../support/steady-load.ts";
import { waitFor } from "../support/index.ts";
import { FAULT_AUDIENCE, WORKLOAD_SERVICE_ACCOUNT, startFaultStack, type FaultStack, type WorkloadPod } from "./fault-stack.ts";

let stack: FaultStack;
let controller: SpawnedController;
let http: IssuerHttp;
let known: WorkloadPod;

async function readPolicy(name: string): Promise<TokenPolicy> {
  return (await stack.clients.custom.getNamespacedCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    namespace: stack.workloadNamespace,
    plural: RESOURCE_TOKEN_POLICIES,
    name,
  })) as TokenPolicy;
}

async function createPolicy(name: string, serviceAccount: string, audience: string, claimExpression?: string): Promise<void> {
  await stack.clients.custom.createNamespacedCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    namespace: stack.workloadNamespace,
    plural: RESOURCE_TOKEN_POLICIES,
    body: {
      apiVersion: `${API_GROUP}/${API_VERSION}`,
      kind: "TokenPolicy",
      metadata: { name, namespace: stack.workloadNamespace },
      spec: {
        owner: { team: name },
        subjects: { serviceAccounts: [serviceAccount] },
        audiences: [audience],
        ...(claimExpression === undefined ? {} : { claims: [{ name: "team", expression: claimExpression }] }),
      },
    },
  });
}

const transitions = (policy: TokenPolicy) => (policy.status?.conditions ?? []).map((c) => `${c.type}=${c.status} since ${c.lastTransitionTime}`);

const condition = (policy: TokenPolicy, type: string) => policy.status?.conditions?.find((c) => c.type === type);

/** Events of the workload namespace per object and reason, with their counts: a repeat shows as a higher number. */
async function eventTally(): Promise<Record<string, number>> {
  const list = await stack.clients.core.listNamespacedEvent({ namespace: stack.workloadNamespace });
  const tally: Record<string, number> = {};
  for (const event of list.items) {
    const key = `${event.involvedObject.kind ?? ""}/${event.involvedObject.name ?? ""} ${event.reason ?? ""}`;
    tally[key] = (tally[key] ?? 0) + (event.count ?? 1);
  }
  return tally;
}

beforeAll(async () => {
  stack = await startFaultStack({ privateControlPlane: true });
  controller = await stack.replica("controller-0");
  http = await stack.http();
  known = await stack.addPod("known-0");
  await waitFor(async () => (await http.exchange(controller.issuerUrl, known.token, FAULT_AUDIENCE)).status === 200, { description: "a first token" });
  // A policy nothing touches after this: no pod it selects comes or goes, nothing is issued under it.
  await createPolicy("idle", "idle", "https://idle.faults.example");
  await waitFor(async () => condition(await readPolicy("ledger"), "Ready")?.status === "True", { timeoutMs: 60_000, description: "the policy Ready" });
  await waitFor(async () => condition(await readPolicy("idle"), "Accepted")?.status === "True", { timeoutMs: 60_000, description: "the idle policy Accepted" });
  // Things that leave Events, to see that none is written again: a policy whose CEL does not compile (a Warning
  // from the reconciler; no webhook runs here to refuse it) and a refused exchange (a Warning on the pod).
  await createPolicy("broken", "idle", "https://broken.faults.example", "no_such_variable +");
  expect((await http.exchange(controller.issuerUrl, known.token, "https://nobody-grants.faults.example")).status).toBe(400);
  await waitFor(async () => Object.keys(await eventTally()).length >= 2, { timeoutMs: 60_000, description: "the Events of the failing policy and the refused exchange" });
}, 300_000);

afterAll(async () => {
  await stack.stop();
});

describe("etcd restarted", () => {
  it("resumes watches, keeps issuing to known pods, and writes nothing twice", async () => {
    const pid = controller.child.pid;
    const idleBefore = await readPolicy("idle");
    const before = await readPolicy("ledger");
    const eventsBefore = await eventTally();
    const load = steadyLoad(async () => {
      const reply = await http.exchange(controller.issuerUrl, known.token, FAULT_AUDIENCE);
      return reply.status === 200 ? { ok: true } : { ok: false, label: `${String(reply.status)} ${oauthError(reply) ?? reply.error ?? ""}` };
    }, 200);

    const restartedAt = performance.now();
    await stack.plane?.restartEtcd();
    const etcdBackSeconds = (performance.now() - restartedAt) / 1000;

    // Made after the restart: only resumed watches can bring them to the controller.
    const resumedAt = performance.now();
    const fresh = await waitFor(() => stack.addPod("after-0"), { timeoutMs: 60_000, intervalMs: 1_000, description: "the apiserver writing again" });
    await waitFor(async () => (await http.exchange(controller.issuerUrl, fresh.token, FAULT_AUDIENCE)).status === 200, {
      timeoutMs: 120_000,
      intervalMs: 500,
      description: "a pod created after the restart gets a token",
    });
    const podSeenSeconds = (performance.now() - resumedAt) / 1000;
    await createPolicy("reports", WORKLOAD_SERVICE_ACCOUNT, "https://reports.faults.example");
    await waitFor(async () => condition(await readPolicy("reports"), "Accepted")?.status === "True", {
      timeoutMs: 120_000,
      description: "a policy created after the restart is reconciled",
    });
    const policySeenSeconds = (performance.now() - resumedAt) / 1000;
    // A resync period's worth of time for anything that would be redone to be redone.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const total = await load.stop();

    const idleAfter = await readPolicy("idle");
    const after = await readPolicy("ledger");
    const eventsAfter = await eventTally();
    const repeated = Object.entries(eventsBefore).filter(([key, count]) => (eventsAfter[key] ?? 0) !== count);
    console.log(
      `[faults] etcd restarted (${etcdBackSeconds.toFixed(1)} s until healthy): known pod ${String(total.ok)}/${String(total.sent)} exchanges ok ` +
        `(others: ${JSON.stringify(total.failures)}); a new pod got a token ${podSeenSeconds.toFixed(1)} s and a new policy was Accepted ` +
        `${policySeenSeconds.toFixed(1)} s after etcd was back; untouched policy rewritten: ${String(idleAfter.metadata.resourceVersion !== idleBefore.metadata.resourceVersion)}; ` +
        `Events repeated: ${String(repeated.length)} of ${String(Object.keys(eventsBefore).length)} (${Object.keys(eventsBefore).join(", ")})`,
    );
    // The untouched policy was not written at all; the busy one only where the world changed (its selected pods and
    // issuance time), never its conditions' transitions.
    expect(idleAfter.metadata.resourceVersion).toBe(idleBefore.metadata.resourceVersion);
    expect(transitions(after)).toEqual(transitions(before));
    expect(repeated).toEqual([]);
    expect(total.failures).toEqual({});
    expect(controller.child.pid).toBe(pid);
    expect(controller.child.exitCode).toBeNull();
    expect(await controller.readyzStatus()).toBe(200);
  }, 400_000);
});
