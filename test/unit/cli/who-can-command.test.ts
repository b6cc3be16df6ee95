// `tessera who-can` over the examples' manifests: the table, JSON, and usage errors.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseWhoCanArgs, runWhoCan } from "../../../controller/src/cli/who-can.ts";
import { EXAMPLES_DIR } from "../api/manifests.ts";

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runWhoCan(args, { stdout: (t) => (out += t), stderr: (t) => (err += t), now: () => new Date("2026-01-01T00:00:00Z") });
  return { code, out, err };
}

describe("tessera who-can", () => {
  it("answers from manifests: the account, its policy, the owner and the pod condition", async () => {
    const { code, out } = await run(["https://payments.internal.example", "payments.charge", "-f", join(EXAMPLES_DIR, "internal-api")]);
    expect(code).toBe(0);
    expect(out).toContain("Who can obtain a token for https://payments.internal.example scope payments.charge:");
    expect(out).toMatch(
      /^checkout\/checkout-api +TokenPolicy\/checkout\/checkout-to-payments +TokenAudience\/payments\/payments-api \(callers checkout\) +payments\.charge +900s +if pod labels app=checkout-api$/m,
    );
  });

  it("reports a condition over the pod's owner as 'if', in JSON too", async () => {
    const { code, out } = await run(["https://kubernetes.default.svc", "-f", join(EXAMPLES_DIR, "ci-deploy"), "-o", "json"]);
    expect(code).toBe(0);
    const report = JSON.parse(out) as { grants: { serviceAccount: string; policy: string; conditions: string[] }[] };
    expect(report.grants).toEqual([
      expect.objectContaining({
        serviceAccount: "ci/deploy",
        policy: "ClusterTokenPolicy/ci-deploy-staging",
        conditions: ['job-pods-only: has(pod.owner) && pod.owner.apiVersion == "batch/v1" && pod.owner.kind == "Job"'],
      }),
    ]);
  });

  it("says when nobody can", async () => {
    const { code, out } = await run(["https://payments.internal.example", "payments.refund", "-f", join(EXAMPLES_DIR, "internal-api")]);
    expect(code).toBe(0);
    expect(out).toContain("No service account can obtain a token for https://payments.internal.example scope payments.refund.");
    expect(out).toMatch(/^checkout\/checkout-api +ScopeNotAllowed +caller +/m);
  });

  it.each([
    { name: "no audience", args: [], message: "name an audience" },
    { name: "two scopes", args: ["a", "b", "c"], message: "ask for one scope at a time" },
    { name: "manifests and a cluster at once", args: ["a", "-f", "x", "--context", "c"], message: "use either -f" },
    { name: "another output", args: ["a", "-o", "yaml"], message: "--output must be table or json" },
  ])("refuses $name", ({ args, message }) => {
    const parsed = parseWhoCanArgs(args);
    expect(parsed.ok ? "" : parsed.message).toContain(message);
  });

  it("exits 1 naming a path it cannot read", async () => {
    const { code, err } = await run(["a", "-f", "/nonexistent/tessera"]);
    expect(code).toBe(1);
    expect(err).toContain("/nonexistent/tessera");
  });
});
