// Step 8: a claim added to the TokenPolicy, and the time until the sidecar serves a token carrying it.
import { setTimeout as sleep } from "node:timers/promises";
import { API_GROUP, API_VERSION, RESOURCE_TOKEN_POLICIES } from "../../../api/constants.ts";
import { askSidecar } from "../app-client.ts";
import { changeLines, claimChanges, viewToken, type TokenView } from "../jwt-view.ts";
import { formatDuration } from "../report.ts";
import { DemoStepError, type StepResult } from "../runner.ts";
import { SCENARIO, type DemoContext } from "./context.ts";
import type { RunningSidecar } from "./sidecar.ts";

const MERGE_PATCH = "application/merge-patch+json";

interface StoredPolicy {
  metadata?: { generation?: number };
  spec?: { claims?: unknown[] };
}

export async function editPolicy(ctx: DemoContext, sidecar: RunningSidecar, previous: TokenView): Promise<StepResult<{ elapsedMs: number }>> {
  const { namespace, name } = SCENARIO.policy;
  const path = `/apis/${API_GROUP}/${API_VERSION}/namespaces/${namespace}/${RESOURCE_TOKEN_POLICIES}/${name}`;
  const before = await ctx.kube.request("GET", path);
  if (before.status !== 200) throw new DemoStepError(`reading TokenPolicy ${namespace}/${name}: HTTP ${String(before.status)}`);
  const stored = before.body as StoredPolicy;
  const original = stored.spec?.claims ?? [];
  const added = { name: SCENARIO.addedClaim.name, expression: SCENARIO.addedClaim.expression };
  ctx.cleanup.add(`restored TokenPolicy ${namespace}/${name}`, async () => {
    const response = await ctx.kube.request("PATCH", path, { body: { spec: { claims: original } }, contentType: MERGE_PATCH });
    if (response.status !== 200) throw new DemoStepError(`restoring the policy's claims: HTTP ${String(response.status)}`);
  });

  const started = ctx.now();
  const patched = await ctx.kube.request("PATCH", path, { body: { spec: { claims: [...original, added] } }, contentType: MERGE_PATCH });
  if (patched.status !== 200) {
    throw new DemoStepError(`editing the policy: HTTP ${String(patched.status)} ${JSON.stringify((patched.body as { message?: unknown } | undefined)?.message ?? "")}`);
  }
  const generation = { before: stored.metadata?.generation ?? 0, after: (patched.body as StoredPolicy).metadata?.generation ?? 0 };
  // The application keeps asking, as it would before each call; the sidecar answers from its cache until the
  // issuer's change feed tells it the pod's entitlement moved and it has exchanged again.
  const deadline = started + 30_000;
  for (;;) {
    const answer = await askSidecar(sidecar.endpoint, { name: sidecar.tokenName });
    const token = answer.body["access_token"];
    if (answer.status === 200 && typeof token === "string") {
      const view = viewToken(token);
      if (view.claims[SCENARIO.addedClaim.name] === SCENARIO.addedClaim.value) {
        const elapsedMs = ctx.now() - started;
        const changes = claimChanges(previous.claims, view.claims);
        return {
          value: { elapsedMs },
          rows: [
            { label: "edit", value: `TokenPolicy ${namespace}/${name}: claim ${added.name} = ${added.expression} added (generation ${String(generation.before)} -> ${String(generation.after)})` },
            { label: "new claims served", value: `after ${formatDuration(elapsedMs)}, measured from the edit to the first token carrying them` },
            { label: "access_token", value: `${view.preview}, jti ${String(view.claims["jti"])}` },
            { label: "claims changed", value: changeLines(changes) },
          ],
          data: { policy: `${namespace}/${name}`, generation, addedClaim: added, elapsedMs, token: view, changes },
        };
      }
    }
    if (ctx.now() > deadline) throw new DemoStepError(`the sidecar still served the old claims 30 s after the edit (last answer ${String(answer.status)})`);
    await sleep(100);
  }
}
