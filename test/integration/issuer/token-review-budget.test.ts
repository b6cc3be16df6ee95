// The replica's TokenReview budget against the real controller process: a flood of tokens the issuer has never seen
// costs the apiserver at most the budget, the rest are answered 503 at once, and callers it knows are unaffected.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENV_TOKEN_REVIEW_BURST, ENV_TOKEN_REVIEWS_PER_SECOND, PATH_INTROSPECT } from "../../../api/constants.ts";
import type { SpawnedController } from "../support/controller-launcher.ts";
import { apiserverTokenReviews } from "../support/apiserver-metrics.ts";
import { oauthError, type IssuerHttp, type IssuerReply } from "../support/issuer-http.ts";
import { waitFor } from "../support/index.ts";
import { AUDITOR_SERVICE_ACCOUNT, FAULT_AUDIENCE, startFaultStack, type FaultStack, type WorkloadPod } from "../faults/fault-stack.ts";

/** A small budget, so the flood below is far past it: 2 a second, 5 at once. */
const PER_SECOND = 2;
const BURST = 5;
const FLOOD = 300;

let stack: FaultStack;
let controller: SpawnedController;
let http: IssuerHttp;
let auditor: WorkloadPod;
let workload: WorkloadPod;

const label = (reply: IssuerReply): string => `${String(reply.status)} ${oauthError(reply) ?? ""}`.trim();

/** Counts of each label among the replies. */
function countLabels(replies: readonly IssuerReply[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const reply of replies) counts[label(reply)] = (counts[label(reply)] ?? 0) + 1;
  return counts;
}

/** A garbage "token" shaped like a JWT, distinct per index, so neither remembered answer can refuse it. */
const garbage = (i: number): string => `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(`{"n":${String(i)}}`).toString("base64url")}.c2ln`;

beforeAll(async () => {
  stack = await startFaultStack({ privateControlPlane: false });
  controller = await stack.replica("budget-0", { env: { [ENV_TOKEN_REVIEWS_PER_SECOND]: String(PER_SECOND), [ENV_TOKEN_REVIEW_BURST]: String(BURST) } });
  http = await stack.http();
  auditor = await stack.addPod("auditor-0", AUDITOR_SERVICE_ACCOUNT);
  workload = await stack.addPod("app-0");
  // Both are known to the issuer before the flood: each has been reviewed once.
  await waitFor(async () => (await http.exchange(controller.issuerUrl, workload.token, FAULT_AUDIENCE)).status === 200, { description: "a first token" });
  await waitFor(async () => (await http.post(controller.issuerUrl, PATH_INTROSPECT, { token: "x" }, { authorization: `Bearer ${auditor.token}` })).status === 200, {
    description: "the auditor's first introspection",
  });
}, 300_000);

afterAll(async () => {
  await stack.stop();
});

describe("the TokenReview budget", () => {
  it("lets a flood of unseen bearer tokens cost the apiserver at most the budget, answering the rest 503 at once", async () => {
    const reviewsBefore = await apiserverTokenReviews(stack.clients.kubeConfig);
    const started = performance.now();
    const replies = await Promise.all(
      Array.from({ length: FLOOD }, (_, i) => http.post(controller.issuerUrl, PATH_INTROSPECT, { token: "x" }, { authorization: `Bearer ${garbage(i)}` })),
    );
    const seconds = (performance.now() - started) / 1000;
    // Known callers are answered from what the issuer remembers, budget or not.
    const known = await http.post(controller.issuerUrl, PATH_INTROSPECT, { token: "x" }, { authorization: `Bearer ${auditor.token}` });
    const knownPod = await http.exchange(controller.issuerUrl, workload.token, FAULT_AUDIENCE);
    const reviews = (await apiserverTokenReviews(stack.clients.kubeConfig)) - reviewsBefore;
    const counts = countLabels(replies);
    const allowed = BURST + Math.ceil(seconds * PER_SECOND) + 1;
    console.log(
      `[faults] TokenReview budget ${String(PER_SECOND)}/s burst ${String(BURST)}: ${String(FLOOD)} unseen bearer tokens in ${seconds.toFixed(1)} s ` +
        `made ${String(reviews)} TokenReviews (at most ${String(allowed)} allowed); answers ${JSON.stringify(counts)}`,
    );
    expect(reviews).toBeLessThanOrEqual(allowed);
    expect(counts["401 invalid_client"] ?? 0).toBeLessThanOrEqual(allowed);
    expect((counts["401 invalid_client"] ?? 0) + (counts["503 temporarily_unavailable"] ?? 0)).toBe(FLOOD);
    expect(label(known)).toBe("200");
    expect(label(knownPod)).toBe("200");
  });

  it("refuses a pod's unseen subject token with temporarily_unavailable while the budget is spent, and issues once it refills", async () => {
    const fresh = await stack.addPod("app-1");
    // Spend the budget, then ask with the new pod's first token.
    await Promise.all(Array.from({ length: 50 }, (_, i) => http.post(controller.issuerUrl, PATH_INTROSPECT, { token: "x" }, { authorization: `Bearer ${garbage(1000 + i)}` })));
    const refused = await http.exchange(controller.issuerUrl, fresh.token, FAULT_AUDIENCE);
    expect(label(refused)).toBe("503 temporarily_unavailable");
    expect(refused.body).toMatch(/budget of 2 TokenReviews a second is spent/);
    await waitFor(async () => (await http.exchange(controller.issuerUrl, fresh.token, FAULT_AUDIENCE)).status === 200, {
      timeoutMs: 20_000,
      intervalMs: 1_000,
      description: "the new pod's token once the budget refilled",
    });
  });
});
