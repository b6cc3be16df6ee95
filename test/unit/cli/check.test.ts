// `tessera check`: one line per policy, errors with field paths, exit code 1 on any error.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCheck } from "../../../controller/src/cli/check.ts";
import { checkDocuments, formatReport } from "../../../controller/src/cli/check-report.ts";

const good = `apiVersion: tessera.dev/v1alpha1
kind: TokenPolicy
metadata: {name: svc, namespace: shop}
spec:
  owner: {team: shop}
  subjects: {serviceAccounts: [api]}
  audiences: [https://ledger.internal]
  ttlSeconds: 900
  claims:
    - {name: tenant, expression: 'namespace.labels["tenant"]'}
`;
const typo = `apiVersion: tessera.dev/v1alpha1
kind: TokenPolicy
metadata: {name: broken, namespace: shop}
spec:
  owner: {team: shop}
  subjects: {serviceAccounts: [api]}
  audiences: [https://other.internal]
  claims:
    - {name: tenant, expression: 'namspace.labels["tenant"]'}
`;
const rails = `apiVersion: tessera.dev/v1alpha1
kind: ClusterTokenPolicy
metadata: {name: baseline}
spec:
  owner: {team: platform}
  guardrails:
    namespaceSelector: {matchLabels: {tier: restricted}}
    maxTtlSeconds: 300
    reservedClaims: [tenant]
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {tier: restricted}}
`;

describe("tessera check", () => {
  let dir = "";
  afterEach(async () => {
    if (dir !== "") await rm(dir, { recursive: true, force: true });
  });

  async function check(files: Record<string, string>): Promise<{ code: number; out: string }> {
    dir = await mkdtemp(join(tmpdir(), "tessera-check-"));
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    let out = "";
    const code = await runCheck([dir], { stdout: (t) => (out += t), stderr: (t) => (out += t) });
    return { code, out };
  }

  it("prints OK for every valid policy and exits 0", async () => {
    const { code, out } = await check({ "a.yaml": good });
    expect(code).toBe(0);
    expect(out).toMatch(/^OK +TokenPolicy\/shop\/svc +\S+a\.yaml$/m);
  });

  it("reports CEL errors with their field path and exits 1", async () => {
    const { code, out } = await check({ "a.yaml": good, "b.yml": typo });
    expect(code).toBe(1);
    expect(out).toMatch(/^ERROR +TokenPolicy\/shop\/broken/m);
    expect(out).toContain("spec.claims[0].expression: undeclared reference to 'namspace' (column 1)");
  });

  it("judges TokenPolicies against guardrails with the labels of Namespaces found beside them", async () => {
    const { code, out } = await check({ "a.yaml": good, "rails.yaml": rails });
    expect(code).toBe(1);
    expect(out).toContain("spec.claims[0].name: claim 'tenant' is reserved by ClusterTokenPolicy/baseline");
    expect(out).toContain("note: spec.ttlSeconds: ttl 900s is above 300s");
  });

  it("reports a YAML syntax error as a failure", async () => {
    const { code, out } = await check({ "bad.yaml": "kind: [unclosed" });
    expect(code).toBe(1);
    expect(out).toMatch(/^ERROR +\S*bad\.yaml: document 0:/m);
  });

  it("exits 2 with usage when no directory is given", async () => {
    let err = "";
    expect(await runCheck([], { stdout: () => undefined, stderr: (t) => (err += t) })).toBe(2);
    expect(err).toContain("Usage: tessera check <dir>");
  });
});

describe("check report", () => {
  it("flags a policy defined twice", () => {
    const doc = {
      kind: "ClusterTokenPolicy",
      apiVersion: "tessera.dev/v1alpha1",
      metadata: { name: "c" },
      spec: { owner: { team: "p" }, guardrails: {} },
    };
    const report = checkDocuments(
      [
        { file: "a.yaml", index: 0, value: doc },
        { file: "b.yaml", index: 0, value: doc },
      ],
      [],
    );
    expect(report.ok).toBe(false);
    expect(formatReport(report)).toContain("already defined in a.yaml");
  });
});
