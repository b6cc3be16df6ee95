// Step 10: delegation. The checkout pod lets the planner agent read payments for it: its sidecar asks for a grant
// naming the agent, the agent's own sidecar acts with it, and each way of abusing the grant is refused on screen.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AuthenticationV1TokenRequest, V1Namespace, V1Pod, V1ServiceAccount } from "@kubernetes/client-node";
import {
  API_GROUP,
  API_VERSION,
  DEFAULT_TESSERA_AUDIENCE,
  ENV_ISSUER_CA_FILE,
  ENV_ISSUER_URL,
  ENV_SIDECAR_PORT,
  ENV_SUBJECT_TOKEN_FILE,
  PATH_HEALTHZ,
  RESOURCE_TOKEN_POLICIES,
  SIDECAR_GUARD_HEADER,
  SIDECAR_PATH_ACT,
  SIDECAR_PATH_DELEGATION,
} from "../../../api/constants.ts";
import { freeLoopbackPort } from "../../../test/controlplane/ports.ts";
import { kubeBody } from "../../../test/controlplane/plain.ts";
import type { DemoController } from "../controller.ts";
import { fieldLines, viewToken } from "../jwt-view.ts";
import { startProgram, tsxCommand } from "../program.ts";
import { DemoStepError, type StepResult } from "../runner.ts";
import { waitUntil } from "../wait.ts";
import { SCENARIO, type DemoContext } from "./context.ts";
import type { RunningSidecar } from "./sidecar.ts";

const MERGE_PATCH = "application/merge-patch+json";

interface LocalAnswer {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

async function local(endpoint: string, path: string, body?: unknown): Promise<LocalAnswer> {
  const response = await fetch(`${endpoint}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { [SIDECAR_GUARD_HEADER]: "true", ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    return { status: response.status, body: { error: "not JSON", error_description: text.slice(0, 200) } };
  }
}

function refusal(answer: LocalAnswer): string {
  const reason = answer.body["tessera_reason"];
  const description = answer.body["error_description"];
  return `${String(answer.status)} ${String(answer.body["error"])}${typeof reason === "string" ? ` (${reason})` : ""}: ${typeof description === "string" ? description : ""}`;
}

/** The agent's pod, with its own sidecar: the demo plays the kubelet for its projected token. */
async function startAgent(ctx: DemoContext, controller: DemoController, caFile: string): Promise<string> {
  const { namespace, serviceAccount } = SCENARIO.delegation.agent;
  const core = ctx.core;
  await core.createNamespace({ body: kubeBody<V1Namespace>({ metadata: { name: namespace } }) }).catch(() => undefined);
  await core.createNamespacedServiceAccount({ namespace, body: kubeBody<V1ServiceAccount>({ metadata: { name: serviceAccount } }) }).catch(() => undefined);
  const name = `${serviceAccount}-${ctx.runId}`;
  const pod = await core.createNamespacedPod({
    namespace,
    body: kubeBody<V1Pod>({ metadata: { name }, spec: { serviceAccountName: serviceAccount, containers: [{ name: "agent", image: "agent:demo" }] } }),
  });
  ctx.cleanup.add(`deleted pod ${namespace}/${name}`, async () => {
    await core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 });
  });
  const requested = await core.createNamespacedServiceAccountToken({
    namespace,
    name: serviceAccount,
    body: kubeBody<AuthenticationV1TokenRequest>({
      spec: {
        audiences: [DEFAULT_TESSERA_AUDIENCE],
        expirationSeconds: 3600,
        boundObjectRef: { apiVersion: "v1", kind: "Pod", name, uid: pod.metadata?.uid ?? "" },
      },
    }),
  });
  const dir = join(ctx.tempDir, "agent");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tokenFile = join(dir, "token");
  await writeFile(tokenFile, requested.status?.token ?? "", { mode: 0o600 });
  const port = await freeLoopbackPort();
  const program = startProgram({
    name: "agent-sidecar",
    ...tsxCommand(ctx.repoRoot, "sidecar/src/main.ts"),
    env: {
      PATH: process.env["PATH"] ?? "",
      [ENV_ISSUER_URL]: controller.issuerUrl,
      [ENV_ISSUER_CA_FILE]: caFile,
      [ENV_SUBJECT_TOKEN_FILE]: tokenFile,
      [ENV_SIDECAR_PORT]: String(port),
    },
  });
  ctx.cleanup.add("stopped the agent's sidecar", () => program.stop());
  await waitUntil(async () => ((await fetch(`http://127.0.0.1:${String(port)}${PATH_HEALTHZ}`).catch(() => undefined))?.status === 200 ? true : undefined), {
    what: "the agent's sidecar to listen",
    timeoutMs: 30_000,
    intervalMs: 100,
    explain: () => program.exitDescription(),
  });
  return `http://127.0.0.1:${String(port)}`;
}

export async function delegateToAgent(ctx: DemoContext, sidecar: RunningSidecar, controller: DemoController): Promise<StepResult<{ act: unknown }>> {
  const { namespace, name } = SCENARIO.policy;
  const { agent, audience, scope, kept } = SCENARIO.delegation;
  const agentSub = `system:serviceaccount:${agent.namespace}:${agent.serviceAccount}`;
  const path = `/apis/${API_GROUP}/${API_VERSION}/namespaces/${namespace}/${RESOURCE_TOKEN_POLICIES}/${name}`;
  // The checkout team lets the planner act for checkout, for reads only.
  const delegation = { actors: [{ serviceAccount: { namespace: agent.namespace, name: agent.serviceAccount } }], scopes: [scope], maxChainLength: 1 };
  const patched = await ctx.kube.request("PATCH", path, { body: { spec: { delegation } }, contentType: MERGE_PATCH });
  if (patched.status !== 200) throw new DemoStepError(`adding delegation to the policy: HTTP ${String(patched.status)}`);
  ctx.cleanup.add(`removed the delegation from TokenPolicy ${namespace}/${name}`, async () => {
    const response = await ctx.kube.request("PATCH", path, { body: { spec: { delegation: null } }, contentType: MERGE_PATCH });
    if (response.status !== 200) throw new DemoStepError(`removing the delegation: HTTP ${String(response.status)}`);
  });
  const agentEndpoint = await startAgent(ctx, controller, sidecar.caFile);
  const query = (actor: string, s: string) => `${SIDECAR_PATH_DELEGATION}?${new URLSearchParams({ actor, audience, scope: s }).toString()}`;
  // The policy edit reaches the issuer through the controller's informer: ask until the grant is given.
  const grantAnswer = await waitUntil(
    async () => {
      const answer = await local(sidecar.endpoint, query(agentSub, scope));
      return answer.status === 200 ? answer : undefined;
    },
    { what: "the checkout sidecar to be given a delegation grant for the planner", timeoutMs: 30_000, intervalMs: 200 },
  );
  const grant = grantAnswer.body["access_token"];
  if (typeof grant !== "string") throw new DemoStepError("the grant answer carries no token");
  const acted = await local(agentEndpoint, SIDECAR_PATH_ACT, { grant, audience });
  const token = acted.body["access_token"];
  if (acted.status !== 200 || typeof token !== "string") throw new DemoStepError(`the agent could not act: ${refusal(acted)}`);
  const view = viewToken(token);

  const abuses: [string, LocalAnswer][] = [
    ["the agent asks for a scope the grant does not carry", await local(agentEndpoint, SIDECAR_PATH_ACT, { grant, audience, scope: kept })],
    ["checkout asks for a grant naming an agent its policy does not", await local(sidecar.endpoint, query(`system:serviceaccount:${agent.namespace}:intruder`, scope))],
    ["checkout tries to delegate the write it keeps for itself", await local(sidecar.endpoint, query(agentSub, kept))],
    ["someone with the agent's token uses it as a grant", await local(agentEndpoint, SIDECAR_PATH_ACT, { grant: token, audience })],
  ];
  const allowedAbuse = abuses.find(([, answer]) => answer.status < 400);
  if (allowedAbuse !== undefined) throw new DemoStepError(`an abuse was allowed: ${allowedAbuse[0]}`);
  const grantClaims = viewToken(grant).claims;
  return {
    value: { act: view.claims["act"] },
    rows: [
      { label: "policy", value: `TokenPolicy ${namespace}/${name}: delegation to ${agent.namespace}/${agent.serviceAccount}, delegable ${scope}` },
      { label: "grant", value: `GET ${sidecar.endpoint}${query(agentSub, scope)}\n-> ${String(grantAnswer.status)}, aud ${String(grantClaims["aud"])}, scope ${String(grantClaims["scope"])}, may_act ${JSON.stringify(grantClaims["may_act"])}` },
      { label: "agent acts", value: `POST ${agentEndpoint}${SIDECAR_PATH_ACT} {"grant": "...", "audience": "${audience}"}\n-> ${String(acted.status)}` },
      { label: "claims", value: fieldLines({ sub: view.claims["sub"], aud: view.claims["aud"], scope: view.claims["scope"], act: view.claims["act"] }, Math.floor(ctx.now() / 1000)) },
      ...abuses.map(([what, answer]) => ({ label: "refused", value: `${what}\n-> ${refusal(answer)}` })),
    ],
    data: {
      grant: { status: grantAnswer.status, claims: grantClaims },
      token: view.claims,
      abuses: abuses.map(([what, answer]) => ({ what, status: answer.status, error: answer.body["error"], reason: answer.body["tessera_reason"] ?? null })),
    },
  };
}
