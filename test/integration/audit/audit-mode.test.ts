// Audit mode against a real apiserver and the real controller process: an audited guardrail changes nothing that is
// issued while its status, the decision records and the metric count what it would have refused; switching the one
// field to Enforce then refuses exactly those requests.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  API_GROUP,
  API_VERSION,
  CONDITION_AUDITED,
  DEFAULT_TESSERA_AUDIENCE,
  GRANT_TYPE_TOKEN_EXCHANGE,
  PATH_METRICS,
  RESOURCE_CLUSTER_TOKEN_POLICIES,
  RESOURCE_TOKEN_POLICIES,
  TOKEN_TYPE_JWT,
} from "../../../api/constants.ts";
import type { ClusterTokenPolicy, ClusterTokenPolicySpec, TokenPolicy } from "../../../api/token-policy.ts";
import { DECISION_LOG_MESSAGE } from "../../../controller/src/issuer/record/decision-log.ts";
import { exchange, type HttpAnswer } from "../issuer/exchange-harness.ts";
import { startGovernanceStack, type GovernanceStack } from "../governance/stack.ts";
import { createPod, createServiceAccount, freshNamespace, mintProjectedToken, waitFor } from "../support/index.ts";

const LEDGER = "https://ledger.audit.example";
const RAILS = "ledger-read-only";

let stack: GovernanceStack;
let scratch: string;
let apps: string;
/** Projected tokens of two workloads that share the namespace and its policy. */
const tokens = new Map<string, string>();

/** Each request: which workload asks for which scope. The guardrail under audit allows ledger.read only. */
const REQUESTS = [
  { who: "reporter", scope: "ledger.read" },
  { who: "reporter", scope: "ledger.write" },
  { who: "booker", scope: "ledger.read" },
  { who: "booker", scope: "ledger.write" },
  { who: "booker", scope: "ledger.write" },
] as const;
const WOULD_BE_REFUSED = REQUESTS.filter((r) => r.scope === "ledger.write");

function ask(who: string, scope: string): Promise<HttpAnswer> {
  return exchange(stack.issuer, {
    grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
    subject_token: tokens.get(who) ?? "",
    subject_token_type: TOKEN_TYPE_JWT,
    audience: LEDGER,
    scope,
  });
}

function outcome(answer: HttpAnswer): string {
  const body = answer.body as { access_token?: string; error?: string };
  if (answer.status !== 200) return `${answer.status} ${body.error ?? ""}`;
  const payload = JSON.parse(Buffer.from((body.access_token ?? "").split(".")[1] ?? "", "base64url").toString("utf8")) as { scope?: string };
  return `200 ${payload.scope ?? ""}`;
}

async function railsPolicy(): Promise<ClusterTokenPolicy> {
  return (await stack.clients.custom.getClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: RESOURCE_CLUSTER_TOKEN_POLICIES, name: RAILS })) as ClusterTokenPolicy;
}

async function createClusterPolicy(name: string, spec: Partial<ClusterTokenPolicySpec>): Promise<void> {
  const body: ClusterTokenPolicy = { apiVersion: "tessera.dev/v1alpha1", kind: "ClusterTokenPolicy", metadata: { name }, spec: { owner: { team: "platform" }, ...spec } };
  await stack.clients.custom.createClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: RESOURCE_CLUSTER_TOKEN_POLICIES, body });
}

/** The controller's decision records that carry an audit list, as logged. */
function auditedDecisionRecords(): { requested: { scopes: string[] }; subject: { serviceAccount: { name: string } }; allowed: boolean; audit: { rule: string; wouldHave: string; reason?: string }[] }[] {
  return stack
    .output()
    .split("\n")
    .filter((line) => line.includes(DECISION_LOG_MESSAGE) && line.includes('"audit"'))
    .map((line) => JSON.parse(line) as ReturnType<typeof auditedDecisionRecords>[number]);
}

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${stack.healthUrl}${PATH_METRICS}`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "tessera-audit-"));
  stack = await startGovernanceStack(scratch);
  apps = await freshNamespace("apps", { tier: "restricted" }, stack.clients);
  for (const who of ["reporter", "booker"]) {
    await createServiceAccount(apps, who, stack.clients);
    const pod = await createPod(apps, { name: `${who}-0`, serviceAccountName: who }, stack.clients);
    tokens.set(who, await mintProjectedToken({ namespace: apps, serviceAccount: who, pod, audience: DEFAULT_TESSERA_AUDIENCE }, stack.clients));
  }
  await createClusterPolicy("ledger-open", { audienceOwnership: [{ audiences: [LEDGER], ownedBy: "Open" }] });
  const policy: TokenPolicy = {
    apiVersion: "tessera.dev/v1alpha1",
    kind: "TokenPolicy",
    metadata: { name: "ledger", namespace: apps },
    spec: {
      owner: { team: "apps" },
      subjects: { serviceAccounts: ["reporter", "booker"] },
      audiences: [LEDGER],
      scopes: { allowed: ["ledger.read", "ledger.write"], default: ["ledger.read"] },
    },
  };
  await stack.clients.custom.createNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: apps, plural: RESOURCE_TOKEN_POLICIES, body: policy });
  await waitFor(async () => outcome(await ask("reporter", "ledger.write")) === "200 ledger.write", { timeoutMs: 30_000, description: "the ledger policy to grant" });
}, 240_000);

afterAll(async () => {
  await stack.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe("an audited guardrail", () => {
  it("changes nothing that is issued", async () => {
    await createClusterPolicy(RAILS, {
      enforcement: "Audit",
      guardrails: { namespaceSelector: { matchLabels: { tier: "restricted" } }, allowedScopes: ["ledger.read"] },
    });
    // The controller sees the new guardrail through its watch: wait until a decision records it.
    await waitFor(
      async () => {
        await ask("reporter", "ledger.read");
        return auditedDecisionRecords().length > 0;
      },
      { timeoutMs: 30_000, description: "a decision that records the audited guardrail" },
    );
    const before = auditedDecisionRecords().length;
    const deniedBefore = await metric("tessera_audit_would_change_total", `name="${RAILS}",effect="denied"`);
    for (const { who, scope } of REQUESTS) expect(outcome(await ask(who, scope)), `${who} ${scope}`).toBe(`200 ${scope}`);

    // The decision records name the guardrail and what it would have done to each of these requests (the log
    // reaches the test through the controller's stdout, so the last lines may take a moment).
    await waitFor(async () => Promise.resolve(auditedDecisionRecords().length >= before + REQUESTS.length), { timeoutMs: 10_000, description: "every decision record" });
    const records = auditedDecisionRecords().slice(before);
    expect(records.map((r) => [r.subject.serviceAccount.name, r.requested.scopes.join(" "), r.allowed, r.audit.map((a) => `${a.rule} ${a.wouldHave} ${a.reason ?? ""}`.trim())])).toEqual(
      REQUESTS.map(({ who, scope }) => [who, scope, true, [scope === "ledger.write" ? `ClusterTokenPolicy/${RAILS} denied ScopeNotAllowed` : `ClusterTokenPolicy/${RAILS} unchanged`]]),
    );
    expect(await metric("tessera_audit_would_change_total", `name="${RAILS}",effect="denied"`)).toBe(deniedBefore + WOULD_BE_REFUSED.length);
  });

  it("counts in its status what it would have refused, with examples of who asked for what", async () => {
    let status: ClusterTokenPolicy["status"];
    await waitFor(
      async () => {
        status = (await railsPolicy()).status;
        return status?.audit?.wouldHaveDenied === WOULD_BE_REFUSED.length;
      },
      { timeoutMs: 45_000, description: `status.audit.wouldHaveDenied to reach ${WOULD_BE_REFUSED.length}` },
    );
    expect(status?.audit).toMatchObject({ observedGeneration: 1, wouldHaveDenied: WOULD_BE_REFUSED.length, wouldHaveClamped: 0, wouldHaveGranted: 0 });
    const examples = status?.audit?.examples ?? [];
    expect(examples.map((e) => `${e.subject.split(" ")[0] ?? ""} ${e.scopes.join(" ")} ${e.wouldHave} ${e.reason}`).sort()).toEqual(
      WOULD_BE_REFUSED.map((r) => `${apps}/${r.who} ${r.scope} denied ScopeNotAllowed`).sort(),
    );
    expect(JSON.stringify(status)).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
    expect(status?.conditions?.find((c) => c.type === CONDITION_AUDITED)).toMatchObject({ status: "True", reason: "WouldChangeRequests" });
  });

  it("once switched to Enforce, refuses exactly the requests it counted and nothing else", async () => {
    await stack.clients.custom.patchClusterCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      plural: RESOURCE_CLUSTER_TOKEN_POLICIES,
      name: RAILS,
      body: [{ op: "replace", path: "/spec/enforcement", value: "Enforce" }],
    });
    await waitFor(async () => (await ask("booker", "ledger.write")).status !== 200, { timeoutMs: 30_000, description: "the enforced guardrail to refuse" });
    const refused = new Set<string>();
    for (const { who, scope } of REQUESTS) {
      const answer = await ask(who, scope);
      if (answer.status !== 200) refused.add(`${who} ${scope}`);
      else expect(outcome(answer)).toBe(`200 ${scope}`);
    }
    expect([...refused].sort()).toEqual([...new Set(WOULD_BE_REFUSED.map((r) => `${r.who} ${r.scope}`))].sort());
    // Nothing is audited any more: the condition and the counts go.
    await waitFor(async () => (await railsPolicy()).status?.audit === undefined, { timeoutMs: 30_000, description: "status.audit to go" });
    expect((await railsPolicy()).status?.conditions?.map((c) => c.type)).not.toContain(CONDITION_AUDITED);
  });
});
