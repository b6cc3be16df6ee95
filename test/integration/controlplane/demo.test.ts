// `npm run demo` end to end, as a person or CI runs it: each step's result checked through --json, then against the cluster.
import { execFile, spawn } from "node:child_process";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_TESSERA_AUDIENCE, SIDECAR_CONTAINER_NAME, VOLUME_ISSUER_CA, VOLUME_SUBJECT_TOKEN, VOLUME_TOKENS, WEBHOOK_CONFIGURATION_NAME } from "../../../api/constants.ts";
import { kubeClientFromConfig, type KubeClient } from "../../../controller/src/kube/kube-http.ts";
import type { DemoReport, DemoSection } from "../../../examples/demo/report.ts";
import { STEP_IDS } from "../../../examples/demo/steps.ts";
import { startControlPlane, type ControlPlane } from "../../controlplane/harness.ts";
import { controlPlaneInfo, REPO_ROOT, waitFor } from "../support/index.ts";

interface DemoRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const DEMO = [join(REPO_ROOT, "examples", "demo", "main.ts")];
/** A whole JWT (three base64url parts): the demo must only ever print previews. */
const WHOLE_JWT = /eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{20,}/;

function runDemo(args: readonly string[], env: NodeJS.ProcessEnv): Promise<DemoRun> {
  return new Promise((resolveRun) => {
    execFile(
      process.execPath,
      ["--import", "tsx", ...DEMO, ...args],
      { cwd: REPO_ROOT, env, encoding: "utf8", timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
        resolveRun({ code, stdout, stderr });
      },
    );
  });
}

/** The caller's environment minus KUBECONFIG, with the cache that already holds the binaries. */
function demoEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { KUBECONFIG: _ignored, ...rest } = process.env;
  const cacheDir = dirname(dirname(controlPlaneInfo().binaries["kube-apiserver"]));
  return { ...rest, TESSERA_CACHE_DIR: cacheDir, NO_COLOR: "1", ...extra };
}

function section(report: DemoReport, id: string): DemoSection {
  const found = report.sections.find((s) => s.id === id);
  if (found === undefined) throw new Error(`no section ${id} in ${report.sections.map((s) => s.id).join(", ")}`);
  return found;
}

/** Reads a nested field of a section's data, typed loosely for assertions. */
function data(report: DemoReport, id: string, ...path: string[]): unknown {
  let value: unknown = section(report, id).data;
  for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
  return value;
}

function refused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname === "localhost" ? "127.0.0.1" : hostname, port: Number(port) });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => {
      resolve(true);
    });
  });
}

async function webhookStatus(kube: KubeClient): Promise<number[]> {
  return Promise.all(
    ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"].map(
      async (kind) => (await kube.request("GET", `/apis/admissionregistration.k8s.io/v1/${kind}/${WEBHOOK_CONFIGURATION_NAME}`)).status,
    ),
  );
}

describe("npm run demo", () => {
  // A private control plane: the demo applies cluster-wide policies and webhooks that other tests must not see.
  let given: ControlPlane;
  let kube: KubeClient;
  let report: DemoReport;
  let run: DemoRun;

  beforeAll(async () => {
    given = await startControlPlane({ binaries: controlPlaneInfo().binaries });
    kube = kubeClientFromConfig(given.kubeConfig);
    run = await runDemo(["--json"], demoEnv({ KUBECONFIG: given.kubeconfigPath }));
    report = JSON.parse(run.stdout) as DemoReport;
  }, 240_000);

  afterAll(async () => {
    await given.stop();
  });

  it("runs every step against the cluster in KUBECONFIG, cleans up and exits 0", () => {
    expect(run.code, run.stderr).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.cluster).toMatchObject({ source: "KUBECONFIG", server: given.apiserverUrl, version: "v1.34.3" });
    expect(report.sections.map((s) => [s.id, s.ok])).toEqual([...STEP_IDS, "cleanup"].map((id) => [id, true]));
  });

  it("step 1: installs the three CRDs and starts the controller, which installs its CA in the webhook configurations", () => {
    expect((data(report, "install", "crds") as { name: string; established: boolean }[]).map((c) => c.established)).toEqual([true, true, true]);
    expect(data(report, "install", "controller", "ready")).toBe(true);
    expect(data(report, "install", "webhooks")).toEqual({
      names: [`MutatingWebhookConfiguration/${WEBHOOK_CONFIGURATION_NAME}`, `ValidatingWebhookConfiguration/${WEBHOOK_CONFIGURATION_NAME}`],
      caBundleInstalled: true,
    });
  });

  it("step 2: every example policy carries Accepted=True and Ready=True, every contract Accepted=True and Owner=True", () => {
    const policies = (data(report, "policies", "policies") as { kind: string; name: string; conditions: { type: string; status: string }[] }[]);
    expect(policies.map((p) => p.kind).sort()).toContain("ClusterTokenPolicy");
    expect(policies.map((p) => `${p.kind} ${p.name}`)).toContain("TokenPolicy checkout/checkout-to-payments");
    expect(policies.map((p) => `${p.kind} ${p.name}`)).toContain("TokenAudience payments/payments-api");
    for (const policy of policies) {
      const expected = policy.kind === "TokenAudience" ? ["Accepted=True", "Owner=True"] : ["Accepted=True", "Ready=True", "WithinCostBudget=True"];
      expect(policy.conditions.map((c) => `${c.type}=${c.status}`).sort(), policy.name).toEqual(expected);
    }
  });

  it("step 3: the webhook injected the sidecar, its three volumes and the application's endpoint", () => {
    const injection = (data(report, "pod", "injection") as { sidecar: { name: string; image: string }; volumes: { name: string }[]; appEnv: { env: Record<string, string> }[] });
    expect(injection.sidecar.name).toBe(SIDECAR_CONTAINER_NAME);
    expect(injection.volumes.map((v) => v.name).sort()).toEqual([VOLUME_ISSUER_CA, VOLUME_SUBJECT_TOKEN, VOLUME_TOKENS].sort());
    expect(injection.appEnv[0]?.env["TESSERA_ENDPOINT"]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("step 4: the sidecar runs with the injected environment, only volume paths (and a taken port) moved", () => {
    const env = (data(report, "sidecar", "env") as Record<string, string>);
    const remapped = (data(report, "sidecar", "remapped") as { name: string }[]).map((r) => r.name);
    expect(env["TESSERA_ISSUER_URL"]).toBe(data(report, "install", "controller", "issuerUrl"));
    expect(remapped).toEqual(expect.arrayContaining(["TESSERA_ISSUER_CA_FILE", "TESSERA_SUBJECT_TOKEN_FILE", "TESSERA_TOKEN_DIR"]));
    expect(remapped.filter((name) => !["TESSERA_ISSUER_CA_FILE", "TESSERA_SUBJECT_TOKEN_FILE", "TESSERA_TOKEN_DIR", "TESSERA_SIDECAR_PORT"].includes(name))).toEqual([]);
    expect(env["TESSERA_TOKENS"]).toContain("https://payments.internal.example");
  });

  it("step 5: the application's token is an at+jwt with the policy's claims, and its decision record names the policy", () => {
    const token = (data(report, "token", "token") as { header: Record<string, unknown>; claims: Record<string, unknown> });
    expect(data(report, "token", "status")).toBe(200);
    expect(token.header).toMatchObject({ typ: "at+jwt", alg: "ES256" });
    expect(token.claims).toMatchObject({
      iss: data(report, "install", "controller", "issuerUrl"),
      aud: "https://payments.internal.example",
      tenant: "acme",
      caller: "checkout/checkout-api",
    });
    expect(String(token.claims["scope"]).split(" ").sort()).toEqual(["payments.charge", "payments.read"]);
    const decision = (data(report, "token", "decision") as Record<string, unknown>);
    expect(decision).toMatchObject({ decisionId: token.claims["jti"], allowed: true, policy: { ref: "TokenPolicy/checkout/checkout-to-payments" } });
    expect(data(report, "token", "response")).not.toHaveProperty("access_token");
  });

  it("step 6: the payments API, written with the verifier kit, accepts the workload's charge and refuses another audience's token and too few scopes", () => {
    const calls = (data(report, "api", "calls") as { status: number; challenge: string | null; body: Record<string, unknown> }[]);
    expect(calls.map((c) => c.status)).toEqual([201, 401, 403]);
    expect(calls[0]?.body).toMatchObject({ charged: true, tenant: "acme", caller: "system:serviceaccount:checkout:checkout-api" });
    expect([calls[1]?.body["error"], calls[1]?.challenge]).toEqual(["invalid_token", expect.stringMatching(/^Bearer realm="https:\/\/payments\.internal\.example", error="invalid_token"/)]);
    expect([calls[2]?.body["error"], calls[2]?.challenge]).toEqual(["insufficient_scope", expect.stringContaining('scope="payments.charge"')]);
  });

  it("step 7: explain allows the pod's audience and refuses another; the sidecar refuses it too, with the same reason", () => {
    const explain = (data(report, "explain", "explain") as { requests: { request: { audiences: string[] }; allowed: boolean; reason?: string }[] });
    expect(explain.requests.map((r) => [r.request.audiences[0], r.allowed])).toEqual([
      ["https://payments.internal.example", true],
      ["https://ledger.internal.example", false],
    ]);
    const denied = (data(report, "explain", "denied") as { status: number; response: Record<string, unknown>; decision: Record<string, unknown> });
    // The issuer refuses an audience no policy grants as invalid_target (RFC 8693), which the sidecar passes on.
    expect([denied.status, denied.response["error"]]).toEqual([400, "invalid_target"]);
    expect(denied.decision).toMatchObject({ allowed: false, decisionId: denied.response["tessera_decision_id"] });
    expect(denied.response["tessera_reason"]).toBe(denied.decision["reason"]);
    expect(denied.decision["reason"]).toBe(explain.requests[1]?.reason);
  });

  it("step 8: after the claim is added the sidecar serves a token carrying it, and says how long that took", () => {
    expect(data(report, "edit", "token", "claims", "region")).toBe("eu-west-1");
    expect(data(report, "edit", "token", "claims", "tenant")).toBe("acme");
    expect(typeof data(report, "edit", "elapsedMs")).toBe("number");
    expect((data(report, "edit", "changes") as { name: string }[]).map((c) => c.name)).toContain("region");
    const generation = (data(report, "edit", "generation") as { before: number; after: number });
    expect(generation.after).toBe(generation.before + 1);
  });

  it("step 9: a policy the checkout team writes for the ledger API is accepted, yet the ledger's owner refuses it and is named", () => {
    const squat = (data(report, "owner") as { status: number; response: Record<string, unknown>; decision: Record<string, unknown> });
    expect([squat.status, squat.response["error"], squat.response["tessera_reason"]]).toEqual([403, "access_denied", "AudienceOwnerDenied"]);
    expect(squat.decision).toMatchObject({ allowed: false, reason: "AudienceOwnerDenied", deniedBy: "owner" });
    expect(String(squat.decision["message"])).toContain("TokenAudience ledger/ledger-api (team ledger, contact ledger@example.com)");
  });

  it("step 10: checkout delegates reads to the planner with a grant, the planner acts, and every abuse is refused", () => {
    const step = data(report, "delegate") as {
      grant: { status: number; claims: Record<string, unknown> };
      token: Record<string, unknown>;
      abuses: { what: string; status: number; error: string; reason: string | null }[];
    };
    expect(step.grant.claims).toMatchObject({ scope: "payments.read", may_act: { sub: "system:serviceaccount:agents:planner" } });
    expect(step.token).toMatchObject({ sub: "system:serviceaccount:checkout:checkout-api", scope: "payments.read", act: { sub: "system:serviceaccount:agents:planner" } });
    expect(step.abuses.map((a) => [a.status, a.error, a.reason])).toEqual([
      [400, "invalid_scope", null],
      [403, "access_denied", "DelegationNotAllowed"],
      [403, "access_denied", "DelegationNotAllowed"],
      [400, "invalid_grant", null],
    ]);
  });

  it("step 11: leaves no webhook, pod, CA ConfigMap, policy edit or process behind", async () => {
    const results = (data(report, "cleanup", "results") as { what: string; ok: boolean }[]);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(await webhookStatus(kube)).toEqual([404, 404]);
    const core = given.kubeConfig.makeApiClient(CoreV1Api);
    const pod = (data(report, "pod", "pod") as { namespace: string; name: string });
    await expect(core.readNamespacedPod({ namespace: pod.namespace, name: pod.name })).rejects.toMatchObject({ code: 404 });
    await expect(core.readNamespacedConfigMap({ namespace: "checkout", name: "tessera-issuer-ca" })).rejects.toMatchObject({ code: 404 });
    const policy = await kube.request("GET", "/apis/tessera.dev/v1alpha1/namespaces/checkout/tokenpolicies/checkout-to-payments");
    expect(JSON.stringify((policy.body as { spec: { claims: unknown } }).spec.claims)).not.toContain("region");
    expect(await refused(data(report, "install", "controller", "issuerUrl") as string)).toBe(true);
    expect(await refused(data(report, "sidecar", "endpoint") as string)).toBe(true);
  });

  it("never prints a whole token, on stdout or stderr", () => {
    expect(run.stdout).not.toMatch(WHOLE_JWT);
    expect(run.stderr).not.toMatch(WHOLE_JWT);
    expect(run.stdout).toContain(DEFAULT_TESSERA_AUDIENCE);
  });

  it("runs again against the same cluster", async () => {
    const again = await runDemo(["--json"], demoEnv({ KUBECONFIG: given.kubeconfigPath }));
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as DemoReport).ok).toBe(true);
  }, 180_000);

  it("cleans up and exits 0 when interrupted with Ctrl-C in the middle", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", ...DEMO], {
      cwd: REPO_ROOT,
      env: demoEnv({ KUBECONFIG: given.kubeconfigPath }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    await waitFor(() => (stderr.includes("Read a token like the application") ? true : undefined), { timeoutMs: 150_000, intervalMs: 100 });
    child.kill("SIGINT");
    expect(await exited, stderr).toBe(0);
    expect(stderr).toContain("deleted the webhook configurations");
    expect(stderr).not.toContain("FAILED");
    expect(await webhookStatus(kube)).toEqual([404, 404]);
  }, 180_000);

  it("starts and stops its own control plane when KUBECONFIG is unset, printing sections for people", async () => {
    const local = await runDemo([], demoEnv({}));
    expect(local.code, local.stderr).toBe(0);
    expect(local.stdout).toContain("local control plane: kube-apiserver v1.34.3");
    expect(local.stdout).toMatch(/^1\. Install the CRDs and start the controller/m);
    expect(local.stdout).toMatch(/^\s+new claims served\s+after /m);
    expect(local.stdout).toMatch(/^\s+region\s+\(absent\) -> eu-west-1$/m);
    expect(local.stdout).toMatch(/^Done in /m);
    expect(local.stdout).not.toContain("\u001b[");
  }, 180_000);

  it("stops with the reason, cleans up and exits 1 rather than replace an installed Tessera's webhooks", async () => {
    const path = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";
    // Someone else's configuration of the same name: selects nothing, so it cannot disturb anything meanwhile.
    const foreign = {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: { name: WEBHOOK_CONFIGURATION_NAME },
      webhooks: [
        {
          name: "pods.installed.tessera.dev",
          clientConfig: { url: "https://127.0.0.1:1/mutate" },
          rules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] }],
          objectSelector: { matchLabels: { "test.tessera.dev/never": "selected" } },
          sideEffects: "None",
          admissionReviewVersions: ["v1"],
        },
      ],
    };
    expect((await kube.request("POST", path, { body: foreign })).status).toBe(201);
    try {
      const refusedRun = await runDemo(["--json"], demoEnv({ KUBECONFIG: given.kubeconfigPath }));
      expect(refusedRun.code).toBe(1);
      const failed = JSON.parse(refusedRun.stdout) as DemoReport;
      expect(failed.ok).toBe(false);
      expect(failed.sections.map((s) => [s.id, s.ok])).toEqual([["install", false], ["cleanup", true]]);
      expect(data(failed, "install", "error")).toContain("already exists and was not made by the demo");
      expect(refusedRun.stderr).not.toMatch(/\n\s+at /);
      const still = await kube.request("GET", `${path}/${WEBHOOK_CONFIGURATION_NAME}`);
      expect((still.body as { webhooks: { name: string }[] }).webhooks.map((w) => w.name)).toEqual(["pods.installed.tessera.dev"]);
    } finally {
      await kube.request("DELETE", `${path}/${WEBHOOK_CONFIGURATION_NAME}`);
    }
  }, 180_000);

  it("refuses an unknown argument with exit code 2", async () => {
    const bogus = await runDemo(["--bogus"], demoEnv({}));
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("unknown argument --bogus");
  });
});
