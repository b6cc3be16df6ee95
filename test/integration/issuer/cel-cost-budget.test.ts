// The CEL cost budget against the real apiserver and the real controller process: attacks are refused or denied
// with CostLimitExceeded, the policies' status says so, and another namespace is still served.
import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  API_GROUP,
  API_VERSION,
  DEFAULT_TESSERA_AUDIENCE,
  RESOURCE_CLUSTER_TOKEN_POLICIES,
  RESOURCE_TOKEN_POLICIES,
} from "../../../api/constants.ts";
import type { Condition, PolicyStatus } from "../../../api/token-policy.ts";
import { kubeClientFromConfig } from "../../../controller/src/kube/kube-http.ts";
import { readWebhookSecret } from "../../../controller/src/tls/serving-material.ts";
import { freeControllerPorts, spawnController, type SpawnedController } from "../support/controller-launcher.ts";
import { issuerHttp, type IssuerHttp, type IssuerReply } from "../support/issuer-http.ts";
import {
  applyCrds,
  controlPlaneInfo,
  createPod,
  createServiceAccount,
  freshNamespace,
  kubeClients,
  mintProjectedToken,
  waitFor,
} from "../support/index.ts";

const clients = kubeClients();
const SA = "app";
const NESTED = "https://nested.cel.example";
const REFUSED = "https://refused.cel.example";
const SUMMED = "https://summed.cel.example";
const REPLACED = "https://replaced.cel.example";
const PLAIN = "https://plain.cel.example";

let controller: SpawnedController | undefined;
let http: IssuerHttp | undefined;
let attackNs: string;
let operatorNs: string;
let bystanderNs: string;
const clusterPolicyName = `cel-replace-${Math.random().toString(36).slice(2, 8)}`;

function tokenPolicy(namespace: string, name: string, audience: string, conditions: readonly string[]): Record<string, unknown> {
  return {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: "TokenPolicy",
    metadata: { name, namespace },
    spec: {
      owner: { team: "cel" },
      subjects: { serviceAccounts: [SA] },
      audiences: [audience],
      conditions: conditions.map((expression, i) => ({ name: `c${i}`, expression, message: "refused by the condition" })),
    },
  };
}

async function createTokenPolicy(body: Record<string, unknown>, namespace: string): Promise<void> {
  await clients.custom.createNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: RESOURCE_TOKEN_POLICIES, body });
}

async function tokenPolicyStatus(namespace: string, name: string): Promise<PolicyStatus | undefined> {
  const obj = (await clients.custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: RESOURCE_TOKEN_POLICIES, name })) as {
    status?: PolicyStatus;
  };
  return obj.status;
}

async function clusterPolicyStatus(name: string): Promise<PolicyStatus | undefined> {
  const obj = (await clients.custom.getClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: RESOURCE_CLUSTER_TOKEN_POLICIES, name })) as {
    status?: PolicyStatus;
  };
  return obj.status;
}

function condition(status: PolicyStatus | undefined, type: string): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** A pod of `namespace`'s service account with its projected token for Tessera. */
async function podWithToken(namespace: string, name: string, annotations: Record<string, string> = {}): Promise<string> {
  const pod: V1Pod = await createPod(namespace, { name, serviceAccountName: SA, annotations }, clients);
  return await mintProjectedToken({ namespace, serviceAccount: SA, pod, audience: DEFAULT_TESSERA_AUDIENCE }, clients);
}

function denial(reply: IssuerReply): { status: number; error?: string; reason?: string; description?: string } {
  const body = JSON.parse(reply.body) as { error?: string; tessera_reason?: string; error_description?: string };
  return {
    status: reply.status,
    ...(body.error === undefined ? {} : { error: body.error }),
    ...(body.tessera_reason === undefined ? {} : { reason: body.tessera_reason }),
    ...(body.error_description === undefined ? {} : { description: body.error_description }),
  };
}

/** Exchanges until the controller has the pod and policy in its caches (a 200 or a policy denial, not a 400). */
async function exchange(token: string, audience: string): Promise<IssuerReply> {
  const issuer = controller?.issuerUrl ?? "";
  return await waitFor(
    async () => {
      const reply = await http?.exchange(issuer, token, audience);
      if (reply === undefined || reply.status === 0 || reply.status === 400 || reply.status === 503) return undefined;
      const body = JSON.parse(reply.body) as { tessera_reason?: string };
      return body.tessera_reason === "NoMatchingPolicy" || body.tessera_reason === "AudienceNotAllowed" ? undefined : reply;
    },
    { timeoutMs: 60_000, description: `an exchange for ${audience} decided under its policy` },
  );
}

beforeAll(async () => {
  await applyCrds(clients);
  const controllerNs = await freshNamespace("tessera-cel");
  attackNs = await freshNamespace("cel-attack");
  operatorNs = await freshNamespace("cel-operator");
  bystanderNs = await freshNamespace("cel-bystander");
  for (const ns of [attackNs, operatorNs, bystanderNs]) await createServiceAccount(ns, SA, clients);

  // A tenant's nested loops over its pod's annotations: the worst case of the attack, refused at compile.
  await createTokenPolicy(tokenPolicy(attackNs, "nested-refused", REFUSED, ['pod.annotations.all(a, pod.annotations.all(b, a == b || a != b))']), attackNs);
  // Nested loops the budget admits (a literal around the annotations), fed 20,000 annotations.
  await createTokenPolicy(tokenPolicy(attackNs, "nested", NESTED, ['["x-", "y-"].all(p, pod.annotations.all(k, !k.startsWith(p)))']), attackNs);
  // Three conditions that each fit the budget but together spend it on annotations within their bounds.
  const sized = 'pod.annotations.all(k, !pod.annotations[k].contains("x"))';
  await createTokenPolicy(tokenPolicy(attackNs, "summed", SUMMED, [sized, `${sized} && true`, `true && ${sized}`]), attackNs);
  // An operator's replace over an annotation any pod creator sets.
  await clients.custom.createClusterCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    plural: RESOURCE_CLUSTER_TOKEN_POLICIES,
    body: {
      apiVersion: `${API_GROUP}/${API_VERSION}`,
      kind: "ClusterTokenPolicy",
      metadata: { name: clusterPolicyName },
      spec: {
        owner: { team: "platform" },
        subjects: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": operatorNs } }, serviceAccounts: [SA] },
        audiences: [REPLACED],
        conditions: [{ name: "team", expression: 'pod.annotations["team"].replace("-", "_") != "blocked_team"', message: "blocked" }],
      },
    },
  });
  await createTokenPolicy(tokenPolicy(bystanderNs, "plain", PLAIN, ['pod.annotations.all(k, k != "x")']), bystanderNs);

  controller = spawnController({
    kubeconfigPath: controlPlaneInfo().kubeconfigPath,
    namespace: controllerNs,
    podName: "controller-0",
    ports: await freeControllerPorts(),
    issuerHost: "localhost",
    clusterName: "test",
    environment: "dev",
    sidecarImage: "tessera/sidecar:test",
    serviceAccountIssuer: controlPlaneInfo().serviceAccountIssuer,
    logLevel: "warn",
  });
  await waitFor(async () => (await controller?.readyzStatus()) === 200, { timeoutMs: 120_000, description: "/readyz 200" });
  const ca = await waitFor(
    async () => (await readWebhookSecret(kubeClientFromConfig(clients.kubeConfig), controllerNs))?.caBundle || undefined,
    { timeoutMs: 60_000, description: "the serving CA" },
  );
  http = issuerHttp(ca, 30_000);
}, 240_000);

afterAll(async () => {
  http?.close();
  await controller?.stop(5_000);
  await clients.custom
    .deleteClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: RESOURCE_CLUSTER_TOKEN_POLICIES, name: clusterPolicyName })
    .catch(() => undefined);
});

describe("the CEL cost budget, from one namespace's attack to every namespace's service", () => {
  it("refuses nested loops over the annotations at compile, naming the cost and the budget", async () => {
    const accepted = await waitFor(async () => condition(await tokenPolicyStatus(attackNs, "nested-refused"), "Accepted"), {
      timeoutMs: 60_000,
      description: "nested-refused's Accepted condition",
    });
    expect(accepted).toMatchObject({ status: "False", reason: "CompileFailed" });
    expect(accepted.message).toMatch(/^spec\.conditions\[0\]\.expression: expression may cost up to \d+ units .* over the CEL cost budget of 25000 units per decision/);
  });

  it("denies a pod with 20,000 annotations under nested loops, and the policy's status says so", async () => {
    const annotations = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${String(i)}`, ""]));
    const token = await podWithToken(attackNs, "many-annotations", annotations);
    expect(denial(await exchange(token, NESTED))).toEqual({
      status: 403,
      error: "access_denied",
      reason: "CostLimitExceeded",
      description: expect.stringContaining("pod.annotations has 20000 entries, over the bound of 128") as string,
    });
    const budget = await waitFor(
      async () => {
        const c = condition(await tokenPolicyStatus(attackNs, "nested"), "WithinCostBudget");
        return c?.status === "False" ? c : undefined;
      },
      { timeoutMs: 60_000, description: "nested's WithinCostBudget=False" },
    );
    expect(budget).toMatchObject({ reason: "CostLimitExceeded", message: expect.stringContaining("pod.annotations has 20000 entries") as string });
  });

  it("denies a pod whose annotations spend the budget over three conditions that each fit it", async () => {
    // 128 annotations of 1,900 characters: within every bound, and within Kubernetes' 256 KiB.
    const annotations = Object.fromEntries(Array.from({ length: 128 }, (_, i) => [`k${String(i)}`, "v".repeat(1_900)]));
    const token = await podWithToken(attackNs, "heavy-annotations", annotations);
    expect(denial(await exchange(token, SUMMED))).toEqual({
      status: 403,
      error: "access_denied",
      reason: "CostLimitExceeded",
      description: expect.stringContaining("the decision's CEL cost budget of 25000 units is spent") as string,
    });
    await waitFor(async () => condition(await tokenPolicyStatus(attackNs, "summed"), "WithinCostBudget")?.status === "False", {
      timeoutMs: 60_000,
      description: "summed's WithinCostBudget=False",
    });
  });

  it("denies an operator's replace over a 256 KiB annotation, and the ClusterTokenPolicy's status says so", async () => {
    const token = await podWithToken(operatorNs, "long-annotation", { team: "a-".repeat(128 * 1024 - 8) });
    expect(denial(await exchange(token, REPLACED))).toEqual({
      status: 403,
      error: "access_denied",
      reason: "CostLimitExceeded",
      description: expect.stringContaining('pod.annotations["team"] is 262128 characters long, over the bound of 4096') as string,
    });
    await waitFor(async () => condition(await clusterPolicyStatus(clusterPolicyName), "WithinCostBudget")?.status === "False", {
      timeoutMs: 60_000,
      description: "the ClusterTokenPolicy's WithinCostBudget=False",
    });
  });

  it("still grants the operator's policy to a pod whose annotation is within its bound", async () => {
    const token = await podWithToken(operatorNs, "short-annotation", { team: "payments-eu" });
    expect((await exchange(token, REPLACED)).status).toBe(200);
  });

  it("serves another namespace as before, and its policy stays within the budget", async () => {
    const token = await podWithToken(bystanderNs, "bystander", { a: "b" });
    expect((await exchange(token, PLAIN)).status).toBe(200);
    expect(condition(await tokenPolicyStatus(bystanderNs, "plain"), "WithinCostBudget")).toMatchObject({ status: "True", reason: "WithinBudget" });
  });
});
