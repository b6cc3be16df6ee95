// Step 7: `tessera explain` for the pod against the running issuer, and a request the policy refuses, with its reason.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AuthenticationV1TokenRequest, V1Pod } from "@kubernetes/client-node";
import { DEFAULT_TESSERA_AUDIENCE } from "../../../api/constants.ts";
import { runExplain } from "../../../controller/src/cli/explain.ts";
import type { ExplainReport } from "../../../controller/src/issuer/explain/explainer.ts";
import { kubeBody } from "../../../test/controlplane/plain.ts";
import { askSidecar } from "../app-client.ts";
import type { DemoController } from "../controller.ts";
import { decisionLines } from "../decision-view.ts";
import { explainLines } from "../explain-view.ts";
import { DemoStepError, type StepResult } from "../runner.ts";
import { SCENARIO, type DemoContext } from "./context.ts";
import type { RunningSidecar } from "./sidecar.ts";

/** A token for the operator's service account, as `tessera explain --token-file` takes it (explain's callers are allowlisted). */
async function operatorTokenFile(ctx: DemoContext): Promise<string> {
  const response = await ctx.core.createNamespacedServiceAccountToken({
    namespace: SCENARIO.tesseraNamespace,
    name: SCENARIO.operator,
    body: kubeBody<AuthenticationV1TokenRequest>({ spec: { audiences: [DEFAULT_TESSERA_AUDIENCE], expirationSeconds: 600 } }),
  });
  const dir = join(ctx.tempDir, "operator");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, "token");
  await writeFile(file, response.status?.token ?? "", { mode: 0o600 });
  return file;
}

export interface Explained {
  readonly report: ExplainReport;
  readonly denial: Readonly<Record<string, unknown>>;
}

export async function explainAndDeny(ctx: DemoContext, pod: V1Pod, sidecar: RunningSidecar, controller: DemoController): Promise<StepResult<Explained>> {
  const namespace = pod.metadata?.namespace ?? "";
  const name = pod.metadata?.name ?? "";
  const args = ["--namespace", namespace, "--pod", name, "--audience", sidecar.tokenAudience, "--audience", SCENARIO.deniedAudience];
  const remote = ["--issuer", controller.issuerUrl, "--ca", sidecar.caFile, "--token-file", await operatorTokenFile(ctx)];
  let stdout = "";
  let stderr = "";
  const code = await runExplain([...args, ...remote, "--json"], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    now: () => new Date(),
  });
  if (code !== 0) throw new DemoStepError(`tessera explain failed (exit ${String(code)}): ${stderr.trim()}`);
  const report = JSON.parse(stdout) as ExplainReport;

  // The application asks for an audience its pod holds no grant for; the sidecar passes the issuer's refusal on.
  const answer = await askSidecar(sidecar.endpoint, { audience: SCENARIO.deniedAudience });
  const decisionId = answer.body["tessera_decision_id"];
  if (answer.status === 200 || typeof decisionId !== "string") {
    throw new DemoStepError(`expected a refusal for ${SCENARIO.deniedAudience}, got ${String(answer.status)} ${JSON.stringify(answer.body)}`);
  }
  const denial = await controller.decision(decisionId);
  const command = `tessera explain ${args.join(" ")} --issuer ${controller.issuerUrl} --ca … --token-file …`;
  return {
    value: { report, denial },
    rows: [
      { label: "explain", value: `${command}\n${explainLines(report)}` },
      { label: "denied request", value: `GET ${answer.url}` },
      {
        label: "response",
        value: `${String(answer.status)} ${String(answer.body["error"])}, tessera_reason ${String(answer.body["tessera_reason"])}, tessera_decision_id ${decisionId}`,
      },
      { label: "decision record", value: decisionLines(denial) },
    ],
    data: { explain: report, denied: { request: answer.url, status: answer.status, response: answer.body, decision: denial } },
  };
}
