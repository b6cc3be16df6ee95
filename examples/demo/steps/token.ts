// Step 5: a token from the sidecar's local endpoint, read as an application would, decoded, with the issuer's decision record.
import { decisionLines } from "../decision-view.ts";
import { askSidecar, withoutToken } from "../app-client.ts";
import type { DemoController } from "../controller.ts";
import { fieldLines, viewToken, type TokenView } from "../jwt-view.ts";
import { DemoStepError, type StepResult } from "../runner.ts";
import type { RunningSidecar } from "./sidecar.ts";

export async function readToken(sidecar: RunningSidecar, controller: DemoController, nowSeconds: () => number): Promise<StepResult<TokenView>> {
  const answer = await askSidecar(sidecar.endpoint, { name: sidecar.tokenName });
  const token = answer.body["access_token"];
  if (answer.status !== 200 || typeof token !== "string") {
    throw new DemoStepError(`the sidecar answered ${String(answer.status)}: ${JSON.stringify(answer.body)}`);
  }
  const view = viewToken(token);
  const jti = view.claims["jti"];
  if (typeof jti !== "string") throw new DemoStepError("the token has no jti");
  const decision = await controller.decision(jti);
  const now = nowSeconds();
  return {
    value: view,
    rows: [
      { label: "request", value: `GET ${answer.url}\nTessera-Token-Request: true` },
      { label: "response", value: `${String(answer.status)} ${JSON.stringify(withoutToken(answer.body))}` },
      { label: "access_token", value: view.preview },
      { label: "header", value: fieldLines(view.header, now) },
      { label: "claims", value: fieldLines(view.claims, now) },
      { label: "decision record", value: decisionLines(decision) },
    ],
    data: { request: answer.url, status: answer.status, response: withoutToken(answer.body), token: view, decision },
  };
}
