// The demo's steps, in order: each reports a section and hands the next steps what they need.
import type { DemoRunner } from "./runner.ts";
import type { DemoContext } from "./steps/context.ts";
import { editPolicy } from "./steps/edit.ts";
import { squatAndRefuse } from "./steps/owner.ts";
import { delegateToAgent } from "./steps/delegate.ts";
import { explainAndDeny } from "./steps/explain.ts";
import { callPaymentsApi } from "./steps/api.ts";
import { installAndStart } from "./steps/install.ts";
import { createPod } from "./steps/pod.ts";
import { applyPolicies } from "./steps/policies.ts";
import { startSidecar } from "./steps/sidecar.ts";
import { readToken } from "./steps/token.ts";

/** Step ids, as they appear in the --json report. */
export const STEP_IDS = ["install", "policies", "pod", "sidecar", "token", "api", "explain", "edit", "owner", "delegate"] as const;

export async function runDemoSteps(runner: DemoRunner, ctx: DemoContext): Promise<void> {
  const nowSeconds = (): number => Math.floor(ctx.now() / 1000);
  const { controller, caPem } = await runner.step("install", "Install the CRDs and start the controller", () => installAndStart(ctx));
  await runner.step("policies", "Apply the example policies", () => applyPolicies(ctx));
  const { pod } = await runner.step("pod", "Create an opted-in pod (the apiserver calls the webhook)", () => createPod(ctx));
  const sidecar = await runner.step("sidecar", "Play the kubelet and start the injected sidecar", () => startSidecar(ctx, pod, caPem));
  const token = await runner.step("token", "Read a token like the application", () => readToken(sidecar, controller, nowSeconds));
  await runner.step("api", "Call the payments API, which verifies tokens with the kit", () => callPaymentsApi(ctx, sidecar, controller));
  await runner.step("explain", "Explain the pod, and a request the policy refuses", () => explainAndDeny(ctx, pod, sidecar, controller));
  await runner.step("edit", "Edit the policy: the sidecar serves the new claims", () => editPolicy(ctx, sidecar, token));
  await runner.step("owner", "Ask for another team's API: its owner's contract says no, and is named", () =>
    squatAndRefuse(ctx, sidecar, controller),
  );
  await runner.step("delegate", "Delegate reads to an agent with a grant; every abuse is refused", () => delegateToAgent(ctx, sidecar, controller));
}
