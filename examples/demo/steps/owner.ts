// Step 8: the audience's owner decides. The checkout team writes itself a policy for the ledger API's audience;
// the ledger team's contract admits only the sandbox notebooks, so the request is refused with the owner named.
import { API_GROUP, API_VERSION, CONDITION_ACCEPTED, RESOURCE_TOKEN_POLICIES } from "../../../api/constants.ts";
import type { TokenPolicy } from "../../../api/token-policy.ts";
import { askSidecar } from "../app-client.ts";
import type { DemoController } from "../controller.ts";
import { decisionLines } from "../decision-view.ts";
import { DemoStepError, type StepResult } from "../runner.ts";
import { waitUntil } from "../wait.ts";
import { SCENARIO, type DemoContext } from "./context.ts";
import type { RunningSidecar } from "./sidecar.ts";

export interface Squatted {
  readonly status: number;
  readonly response: Readonly<Record<string, unknown>>;
  readonly decision: Readonly<Record<string, unknown>>;
}

export async function squatAndRefuse(ctx: DemoContext, sidecar: RunningSidecar, controller: DemoController): Promise<StepResult<Squatted>> {
  const { namespace } = SCENARIO.policy;
  const { audience, scope, policyName } = SCENARIO.squat;
  const path = `/apis/${API_GROUP}/${API_VERSION}/namespaces/${namespace}/${RESOURCE_TOKEN_POLICIES}`;
  const policy: TokenPolicy = {
    apiVersion: "tessera.dev/v1alpha1",
    kind: "TokenPolicy",
    metadata: { name: policyName, namespace },
    spec: {
      owner: { team: "checkout" },
      description: "The checkout team grants itself writes to the ledger API (which the ledger team never agreed to).",
      subjects: { serviceAccounts: ["checkout-api"] },
      audiences: [audience],
      scopes: { allowed: [scope], default: [scope] },
    },
  };
  const created = await ctx.kube.request("POST", path, { body: policy });
  if (created.status !== 201 && created.status !== 409) {
    throw new DemoStepError(`creating TokenPolicy ${namespace}/${policyName}: HTTP ${String(created.status)}`);
  }
  ctx.cleanup.add(`deleted TokenPolicy ${namespace}/${policyName}`, async () => {
    const response = await ctx.kube.request("DELETE", `${path}/${policyName}`);
    if (response.status !== 200 && response.status !== 404) throw new DemoStepError(`deleting the squatting policy: HTTP ${String(response.status)}`);
  });
  // Its own side is in order: the caller's policy is accepted. Only the owner can say no.
  await waitUntil(
    async () => {
      const stored = (await ctx.kube.request("GET", `${path}/${policyName}`)).body as TokenPolicy | undefined;
      return stored?.status?.conditions?.find((c) => c.type === CONDITION_ACCEPTED)?.status === "True" ? true : undefined;
    },
    { what: `TokenPolicy ${namespace}/${policyName} to be accepted`, timeoutMs: 30_000, intervalMs: 200 },
  );
  const answer = await waitUntil(
    async () => {
      const asked = await askSidecar(sidecar.endpoint, { audience, scope });
      return asked.body["tessera_reason"] === "AudienceOwnerDenied" ? asked : undefined;
    },
    { what: "the issuer to refuse the squatting request as the owner's decision", timeoutMs: 30_000, intervalMs: 300 },
  );
  const decisionId = answer.body["tessera_decision_id"];
  if (typeof decisionId !== "string") throw new DemoStepError(`the refusal carries no decision id: ${JSON.stringify(answer.body)}`);
  const decision = await controller.decision(decisionId);
  return {
    value: { status: answer.status, response: answer.body, decision },
    rows: [
      { label: "squatting policy", value: `TokenPolicy ${namespace}/${policyName} grants itself ${scope} for ${audience} (Accepted)` },
      { label: "request", value: `GET ${answer.url}` },
      {
        label: "response",
        value: `${String(answer.status)} ${String(answer.body["error"])}, tessera_reason ${String(answer.body["tessera_reason"])}: ${JSON.stringify(answer.body["error_description"] ?? "")}`,
      },
      { label: "decision record", value: decisionLines(decision) },
    ],
    data: { status: answer.status, response: answer.body, decision },
  };
}
