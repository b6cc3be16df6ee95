// Step 6: the payments API (examples/payments-api, written with the verifier kit) receives the workload's token; the
// same API refuses a token for another audience and one with too few scopes.
import { readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { createVerifier, httpsFetch } from "../../../verify/index.ts";
import { paymentsApi, PAYMENTS_SCOPES } from "../../payments-api/app.ts";
import { askSidecar } from "../app-client.ts";
import type { DemoController } from "../controller.ts";
import { DemoStepError, type StepResult } from "../runner.ts";
import { SCENARIO, type DemoContext } from "./context.ts";
import type { RunningSidecar } from "./sidecar.ts";

export interface ApiCall {
  readonly what: string;
  /** How the token was asked of the sidecar. */
  readonly token: string;
  readonly request: string;
  readonly status: number;
  readonly challenge: string | null;
  readonly body: unknown;
}

async function tokenFrom(sidecar: RunningSidecar, query: Record<string, string>): Promise<string> {
  const answer = await askSidecar(sidecar.endpoint, query);
  const token = answer.body["access_token"];
  if (answer.status !== 200 || typeof token !== "string") throw new DemoStepError(`the sidecar answered ${String(answer.status)}: ${JSON.stringify(answer.body)}`);
  return token;
}

export async function callPaymentsApi(ctx: DemoContext, sidecar: RunningSidecar, controller: DemoController): Promise<StepResult<{ calls: readonly ApiCall[] }>> {
  const verifier = createVerifier({
    issuer: controller.issuerUrl,
    audience: sidecar.tokenAudience,
    fetch: httpsFetch({ ca: await readFile(sidecar.caFile, "utf8") }),
  });
  const app = paymentsApi({ verifier, origin: "http://127.0.0.1" });
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  ctx.cleanup.add("stopped the payments API", () => new Promise<void>((resolve) => server.close(() => { resolve(); })));
  const base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;

  const cases: readonly { what: string; query: Record<string, string>; expect: number }[] = [
    { what: "the workload's token: charge accepted", query: { name: sidecar.tokenName }, expect: 201 },
    { what: "a valid token for another audience (inventory): refused", query: { audience: SCENARIO.otherAudience }, expect: 401 },
    { what: `a payments token with only ${PAYMENTS_SCOPES.read}: refused`, query: { audience: sidecar.tokenAudience, scope: PAYMENTS_SCOPES.read }, expect: 403 },
  ];
  const calls: ApiCall[] = [];
  for (const c of cases) {
    const token = await tokenFrom(sidecar, c.query);
    const response = await fetch(`${base}/v1/charges`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    const call = {
      what: c.what,
      token: new URLSearchParams(c.query).toString(),
      request: "POST /v1/charges",
      status: response.status,
      challenge: response.headers.get("www-authenticate"),
      body: await response.json(),
    };
    if (call.status !== c.expect) throw new DemoStepError(`${c.what}: expected ${String(c.expect)}, the API answered ${String(call.status)} ${JSON.stringify(call.body)}`);
    calls.push(call);
  }
  return {
    value: { calls },
    rows: calls.map((c) => ({
      label: c.what,
      value: `token: GET /v1/token?${c.token}\n${c.request} -> ${String(c.status)} ${JSON.stringify(c.body)}${c.challenge === null ? "" : `\nWWW-Authenticate: ${c.challenge}`}`,
    })),
    data: { api: base, calls },
  };
}
