// Explain for a real pod: the authenticated endpoint, and `tessera explain` in both modes (issuer, kubeconfig).

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANNOTATION_AUDIENCES, PATH_EXPLAIN } from "../../../api/constants.ts";
import type { TokenPolicy } from "../../../api/token-policy.ts";
import { runExplain } from "../../../controller/src/cli/explain.ts";
import type { ExplainReport } from "../../../controller/src/issuer/explain/explainer.ts";
import { controlPlaneInfo, createPod, createServiceAccount, freshNamespace, waitFor } from "../support/index.ts";
import { call } from "./exchange-harness.ts";
import { createTokenPolicy, startAuditIssuer, type AuditIssuer } from "./introspect-harness.ts";

function policy(namespace: string): TokenPolicy {
  return {
    apiVersion: "tessera.dev/v1alpha1",
    kind: "TokenPolicy",
    metadata: { name: "ledger", namespace },
    spec: {
      owner: { team: "payments" },
      subjects: { serviceAccounts: ["api"] },
      audiences: ["ledger"],
      scopes: { allowed: ["read"], default: ["read"] },
      ttlSeconds: 300,
      claims: [{ name: "tenant", expression: 'namespace.labels["tenant"]' }],
      conditions: [{ name: "tenant-set", expression: 'has(namespace.labels.tenant)', message: "the namespace needs a tenant label" }],
    },
  };
}

describe("explain against the real control plane", () => {
  let audit: AuditIssuer;
  let ns: string;
  let dir: string;

  beforeAll(async () => {
    audit = await startAuditIssuer();
    ns = await freshNamespace("explain", { tenant: "acme" });
    await createServiceAccount(ns, "api");
    await createPod(ns, { name: "api-0", serviceAccountName: "api", annotations: { [ANNOTATION_AUDIENCES]: "ledger,unknown-audience" } });
    await waitFor(() => createTokenPolicy(policy(ns)).then(() => true));
    await audit.reloadPolicies();
    dir = await mkdtemp(join(tmpdir(), "tessera-explain-"));
  });

  afterAll(async () => {
    await audit.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("explains every audience the pod's annotation names, allowed and denied, without minting", async () => {
    const answer = await call(audit, `${PATH_EXPLAIN}?namespace=${ns}&pod=api-0`, { headers: { authorization: `Bearer ${audit.auditorToken}` } });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const report = answer.body as ExplainReport;
    expect(report.pod).toMatchObject({ namespace: ns, name: "api-0", serviceAccount: "api" });
    expect(report.requests).toHaveLength(2);
    const [ledger, unknown] = report.requests;
    expect(ledger).toMatchObject({
      request: { audiences: ["ledger"], scopes: [] },
      allowed: true,
      policy: { ref: `TokenPolicy/${ns}/ledger` },
      granted: { scopes: ["read"], ttlSeconds: 300 },
      claims: { tenant: "acme", sub: `system:serviceaccount:${ns}:api`, aud: "ledger" },
    });
    expect(ledger?.policies.find((p) => p.chosen)?.conditions).toEqual([{ name: "tenant-set", passed: true }]);
    expect(unknown).toMatchObject({ request: { audiences: ["unknown-audience"] }, allowed: false });
    expect(audit.logText()).not.toContain('"msg":"token decision"');
  });

  it("refuses explain without a bearer token", async () => {
    const answer = await call(audit, `${PATH_EXPLAIN}?namespace=${ns}&pod=api-0`);
    expect(answer.status).toBe(401);
  });

  it("answers 404 for a pod that does not exist", async () => {
    const answer = await call(audit, `${PATH_EXPLAIN}?namespace=${ns}&pod=nobody&audience=ledger`, {
      headers: { authorization: `Bearer ${audit.auditorToken}` },
    });
    expect(answer.status).toBe(404);
  });

  it("prints the aligned report through the issuer with `tessera explain`", async () => {
    const ca = join(dir, "ca.pem");
    const token = join(dir, "token");
    await writeFile(ca, audit.caPem);
    await writeFile(token, audit.auditorToken);
    let out = "";
    let err = "";
    const code = await runExplain(["--namespace", ns, "--pod", "api-0", "--audience", "ledger", "--issuer", audit.url, "--ca", ca, "--token-file", token], {
      stdout: (t) => (out += t),
      stderr: (t) => (err += t),
      now: () => new Date(),
    });
    expect(code, err).toBe(0);
    expect(out).toMatch(new RegExp(`\nDecision +ALLOWED under TokenPolicy/${ns}/ledger \\(generation 1\\)\n`));
    expect(out).toContain("      pass  tenant-set\n");
    expect(out).toMatch(/\n {2}tenant +acme\n/);
  });

  it("evaluates locally with a kubeconfig and prints JSON", async () => {
    let out = "";
    let err = "";
    const code = await runExplain(
      ["--namespace", ns, "--pod", "api-0", "--audience", "ledger", "--kubeconfig", controlPlaneInfo().kubeconfigPath, "--json"],
      { stdout: (t) => (out += t), stderr: (t) => (err += t), now: () => new Date() },
    );
    expect(code, err).toBe(0);
    const report = JSON.parse(out) as ExplainReport;
    expect(report.requests[0]).toMatchObject({ allowed: true, policy: { ref: `TokenPolicy/${ns}/ledger` }, claims: { tenant: "acme" } });
  });
});
