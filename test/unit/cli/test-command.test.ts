// `tessera test`: every example's suite passes, and a deliberately broken policy fails a case naming its reason.
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runTest } from "../../../controller/src/cli/test.ts";
import { EXAMPLE_FOLDERS, EXAMPLES_DIR as EXAMPLES } from "../api/manifests.ts";

/** Every example that holds manifests ships a suite (payments-api is the API receiving internal-api's tokens). */
const EXAMPLE_DIRS = EXAMPLE_FOLDERS;

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runTest(args, { stdout: (t) => (out += t), stderr: (t) => (err += t), now: () => new Date("2026-01-01T00:00:00Z") });
  return { code, out, err };
}

describe("tessera test", () => {
  let dir = "";
  afterEach(async () => {
    if (dir !== "") await rm(dir, { recursive: true, force: true });
    dir = "";
  });

  it.each(EXAMPLE_DIRS)("passes every case of examples/%s", async (example) => {
    const { code, out } = await run([join(EXAMPLES, example)]);
    expect(out).not.toMatch(/^(FAIL|ERROR)/m);
    expect(out).toMatch(/cases in 1 suites: (\d+) passed, 0 failed$/m);
    expect(code).toBe(0);
  });

  it("fails a case of a copy whose policy grants another scope, naming the case and the decision's reason", async () => {
    dir = await mkdtemp(join(tmpdir(), "tessera-test-"));
    await cp(join(EXAMPLES, "internal-api"), dir, { recursive: true });
    const policy = join(dir, "token-policy.yaml");
    // Checkout's policy no longer lets it charge.
    await writeFile(policy, (await readFile(policy, "utf8")).replace("allowed: [payments.read, payments.charge]", "allowed: [payments.read]"));
    const { code, out } = await run([dir]);
    expect(code).toBe(1);
    expect(out).toContain(
      "internal-api › checkout may charge when it asks: expected allowed, got denied: ScopeNotAllowed by caller: ",
    );
    expect(out).toMatch(/^FAIL +internal-api +checkout may charge when it asks +denied ScopeNotAllowed \(caller\)$/m);
  });

  it("fails a case of a copy whose condition changed, in JUnit XML too", async () => {
    dir = await mkdtemp(join(tmpdir(), "tessera-test-"));
    await cp(join(EXAMPLES, "ci-deploy"), dir, { recursive: true });
    const policy = join(dir, "cluster-token-policy.yaml");
    // Any owner will do now: a bare pod's Job-less token is no longer refused.
    await writeFile(policy, (await readFile(policy, "utf8")).replace(/expression: has\(pod\.owner\).*$/m, "expression: 'true'"));
    const { code, out } = await run(["--output", "junit", dir]);
    expect(code).toBe(1);
    expect(out).toContain('<failure message="ci-deploy › a bare pod of the deploy account is refused: expected denied (ConditionFailed), got allowed under ClusterTokenPolicy/ci-deploy-staging');
  });

  it("reports JSON with every case's decision", async () => {
    const { code, out } = await run(["-o", "json", join(EXAMPLES, "ci-deploy")]);
    expect(code).toBe(0);
    const report = JSON.parse(out) as { ok: boolean; suites: { cases: { name: string; got: { allowed: boolean; claims?: Record<string, unknown> } }[] }[] };
    expect(report.ok).toBe(true);
    const first = report.suites[0]?.cases[0];
    expect(first?.got.claims?.["groups"]).toEqual(["tessera:deploy:staging"]);
  });

  it("fails a run whose manifests do not compile, so a rejected policy cannot pass a denial case", async () => {
    dir = await mkdtemp(join(tmpdir(), "tessera-test-"));
    await cp(join(EXAMPLES, "internal-api"), dir, { recursive: true });
    const policy = join(dir, "token-policy.yaml");
    await writeFile(policy, (await readFile(policy, "utf8")).replace('expression: namespace.labels["tessera.dev/tenant"]', "expression: namspace.labels"));
    const { code, out } = await run([dir]);
    expect(code).toBe(1);
    expect(out).toMatch(/^ERROR +TokenPolicy\/checkout\/checkout-to-payments: spec\.claims\[0\]\.expression: undeclared reference to 'namspace'/m);
  });

  it("fails a directory without suites rather than pass having tested nothing", async () => {
    dir = await mkdtemp(join(tmpdir(), "tessera-test-"));
    const { code, out } = await run([dir]);
    expect(code).toBe(1);
    expect(out).toContain("no TokenPolicyTest suite found");
  });

  it("reports an invalid suite with its field paths", async () => {
    dir = await mkdtemp(join(tmpdir(), "tessera-test-"));
    await writeFile(
      join(dir, "suite.yaml"),
      "apiVersion: tessera.dev/v1alpha1\nkind: TokenPolicyTest\nmetadata: {name: s}\nspec:\n  cases:\n    - name: c\n      subject: {serviceAccount: {namespace: a, name: b}}\n      request: {audiences: [x]}\n      expects: {}\n",
    );
    const { code, out } = await run([dir]);
    expect(code).toBe(1);
    expect(out).toContain("spec.cases[0].expects: unknown field");
    expect(out).toContain("spec.cases[0].expect: required");
  });

  it.each([
    { name: "no directory", args: [], message: "name at least one directory" },
    { name: "an unknown output format", args: ["--output", "xml", "."], message: "--output must be one of table, junit, json" },
    { name: "a directory that does not exist", args: ["/nonexistent/tessera"], message: "cannot read /nonexistent/tessera" },
  ])("exits 2 on $name", async ({ args, message }) => {
    const { code, err } = await run(args);
    expect(code).toBe(2);
    expect(err).toContain(message);
  });
});
