// Fuzzing the issuer (the real controller process) and the sidecar from their OpenAPI documents with Schemathesis.
//
// Schemathesis generates valid and invalid requests from docs/issuer-openapi.yaml and docs/sidecar-openapi.yaml;
// the check is that no request gets a server error and that both programs still answer afterwards. The figures
// (requests sent, time) are printed and recorded in docs/reliability.md.
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_GROUP, API_VERSION, DEFAULT_TESSERA_AUDIENCE, PATH_HEALTHZ, RESOURCE_TOKEN_POLICIES } from "../../../api/constants.ts";
import { kubeClientFromConfig } from "../../../controller/src/kube/kube-http.ts";
import { readWebhookSecret } from "../../../controller/src/tls/serving-material.ts";
import { loadControlPlaneConfig } from "../../controlplane/config.ts";
import { freeLoopbackPort } from "../../controlplane/ports.ts";
import { ensurePythonEnv } from "../../controlplane/python-env.ts";
import { freeControllerPorts, spawnController, type SpawnedController } from "../support/controller-launcher.ts";
import {
  applyCrds,
  controlPlaneInfo,
  createPod,
  createServiceAccount,
  freshNamespace,
  kubeClients,
  mintProjectedToken,
  REPO_ROOT,
  waitFor,
  writeProjectedTokenFile,
} from "../support/index.ts";
import { startSidecarProcess, type SidecarProcess } from "../sidecar/sidecar-process.ts";

/** Requests each program must take without a server error (issue 19's floor). */
const MIN_REQUESTS = 10_000;
/** Test cases asked for per operation and run. */
const EXAMPLES_PER_OPERATION = 1_000;
const AUDIENCE = "https://payments.fuzz.example";

interface FuzzRun {
  readonly requests: number;
  readonly serverErrors: number;
  readonly failures: readonly string[];
  readonly seconds: number;
  readonly output: string;
}

const clients = kubeClients();
let python: string;
let scratch: string;
let controller: SpawnedController;
let issuerUrl: string;
let caFile: string;
let auditorToken: string;
let sidecar: SidecarProcess;

/** Runs `st run` and reads what it sent from its NDJSON event log. */
async function schemathesis(spec: string, url: string, extra: readonly string[], seed: number): Promise<FuzzRun> {
  const reportDir = await mkdtemp(join(scratch, "report-"));
  const args = [
    "-m",
    "schemathesis.cli",
    "run",
    join(REPO_ROOT, spec),
    "--url",
    url,
    "--checks",
    "not_a_server_error",
    "--max-examples",
    String(EXAMPLES_PER_OPERATION),
    "--phases",
    "coverage,fuzzing",
    "--no-shrink",
    "--seed",
    String(seed),
    // One worker: CPython 3.11 (the machine's python3) shares the AST parser's recursion counter between threads,
    // and Hypothesis parses lambdas while drawing, so two workers now and then crash the generator itself with
    // "SystemError: AST constructor recursion depth mismatch", a finding about the fuzzer, not about Tessera.
    "--workers",
    "1",
    "--generation-database",
    "none",
    "--report",
    "ndjson,json",
    "--report-dir",
    reportDir,
    "--no-color",
    ...extra,
  ];
  const started = performance.now();
  const output = await new Promise<string>((resolve) => {
    execFile(python, args, { maxBuffer: 64 << 20, timeout: 900_000 }, (_error, stdout, stderr) => {
      // A non-zero exit is a finding: the counts below say which; the output is kept for the message.
      resolve(`${stdout}${stderr}`);
    });
  });
  const seconds = (performance.now() - started) / 1000;
  const files = await readdir(reportDir);
  const ndjson = files.find((f) => f.endsWith(".ndjson"));
  const json = files.find((f) => f.endsWith(".json"));
  if (ndjson === undefined || json === undefined) throw new Error(`schemathesis wrote no report:\n${output.slice(-4000)}`);
  const statuses = [...(await readFile(join(reportDir, ndjson), "utf8")).matchAll(/"status_code":\s*(\d{3})/g)].map((m) => Number(m[1]));
  const report = JSON.parse(await readFile(join(reportDir, json), "utf8")) as { failures?: unknown[]; errors?: unknown[] };
  const failures = [...(report.failures ?? []), ...(report.errors ?? [])].map((f) => JSON.stringify(f).slice(0, 400));
  return { requests: statuses.length, serverErrors: statuses.filter((s) => s >= 500 && s !== 503).length, failures, seconds, output };
}

/** Most runs a fuzz may take to reach its floor; each run explores with another seed. */
const MAX_RUNS = 16;

/**
 * Runs with seed after seed until `minRequests` were sent in total: Hypothesis stops an operation early once it has
 * tried what it can think of for it, so one run sends fewer requests than the examples asked for.
 */
async function fuzzUntil(spec: string, url: string, extra: readonly string[], minRequests: number): Promise<FuzzRun> {
  let total: FuzzRun = { requests: 0, serverErrors: 0, failures: [], seconds: 0, output: "" };
  for (let seed = 1; seed <= MAX_RUNS && total.requests < minRequests; seed++) {
    const run = await schemathesis(spec, url, extra, seed);
    total = {
      requests: total.requests + run.requests,
      serverErrors: total.serverErrors + run.serverErrors,
      failures: [...total.failures, ...run.failures],
      seconds: total.seconds + run.seconds,
      output: run.failures.length > 0 || run.serverErrors > 0 ? `${total.output}${run.output}` : total.output || run.output,
    };
  }
  return total;
}

function describeRun(run: FuzzRun): string {
  return `${String(run.requests)} requests in ${run.seconds.toFixed(1)} s, ${String(run.serverErrors)} server errors`;
}

beforeAll(async () => {
  python = await ensurePythonEnv({ cacheDir: loadControlPlaneConfig(process.env).cacheDir, requirementsFile: join(import.meta.dirname, "requirements.txt") });
  scratch = await mkdtemp(join(tmpdir(), "tessera-fuzz-"));
  await applyCrds(clients);
  const tesseraNs = await freshNamespace("tessera-fuzz");
  const workNs = await freshNamespace("fuzz-work");
  await createServiceAccount(tesseraNs, "auditor", clients);
  const auditorPod = await createPod(tesseraNs, { name: "auditor-0", serviceAccountName: "auditor" }, clients);
  auditorToken = await mintProjectedToken({ namespace: tesseraNs, serviceAccount: "auditor", pod: auditorPod, audience: DEFAULT_TESSERA_AUDIENCE }, clients);
  const auditor = `${tesseraNs}/auditor`;
  const ports = await freeControllerPorts();
  controller = spawnController({
    kubeconfigPath: controlPlaneInfo().kubeconfigPath,
    namespace: tesseraNs,
    podName: "fuzz-0",
    ports,
    issuerHost: "localhost",
    clusterName: "fuzz",
    environment: "test",
    sidecarImage: "tessera/sidecar:test",
    serviceAccountIssuer: controlPlaneInfo().serviceAccountIssuer,
    callers: { introspect: auditor, revoke: auditor, explain: auditor },
    logLevel: "warn",
  });
  issuerUrl = controller.issuerUrl;
  await waitFor(async () => (await controller.readyzStatus()) === 200, { timeoutMs: 90_000, description: "the controller's /readyz" });
  const secret = await readWebhookSecret(kubeClientFromConfig(clients.kubeConfig), tesseraNs);
  if (secret === undefined) throw new Error("the controller wrote no serving certificate");
  caFile = join(scratch, "ca.crt");
  await writeFile(caFile, secret.caBundle);

  // A workload with a policy, so the sidecar has a real token to hold while it is fuzzed.
  await createServiceAccount(workNs, "payments", clients);
  await clients.custom.createNamespacedCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    namespace: workNs,
    plural: RESOURCE_TOKEN_POLICIES,
    body: {
      apiVersion: `${API_GROUP}/${API_VERSION}`,
      kind: "TokenPolicy",
      metadata: { name: "payments", namespace: workNs },
      spec: { owner: { team: "payments" }, subjects: { serviceAccounts: ["payments"] }, audiences: [AUDIENCE], ttlSeconds: 600 },
    },
  });
  const pod = await createPod(workNs, { name: "payments-0", serviceAccountName: "payments" }, clients);
  const subject = await mintProjectedToken({ namespace: workNs, serviceAccount: "payments", pod, audience: DEFAULT_TESSERA_AUDIENCE, expirationSeconds: 3600 }, clients);
  await writeProjectedTokenFile(join(scratch, "subject"), subject);
  sidecar = startSidecarProcess({
    issuerUrl,
    caFile,
    subjectTokenFile: join(scratch, "subject", "token"),
    tokenDir: scratch,
    tokens: [{ name: "payments", audience: AUDIENCE }],
    port: await freeLoopbackPort(),
  });
  await waitFor(async () => (await sidecar.get("/readyz").catch(() => ({ status: 0 }))).status === 200, {
    timeoutMs: 60_000,
    description: "the sidecar to hold its first token",
  });
}, 600_000);

afterAll(async () => {
  await sidecar.terminate();
  await controller.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe("fuzzing from the OpenAPI documents", () => {
  it(`the issuer answers ${String(MIN_REQUESTS)}+ generated requests, anonymous and as an allowlisted auditor, without a server error`, async () => {
    const anonymous = await fuzzUntil("docs/issuer-openapi.yaml", issuerUrl, ["--tls-verify", caFile], MIN_REQUESTS);
    // As the auditor, the audit endpoints get past authentication and their request parsing is fuzzed too.
    const audited = await fuzzUntil(
      "docs/issuer-openapi.yaml",
      issuerUrl,
      ["--tls-verify", caFile, "--header", `Authorization: Bearer ${auditorToken}`, "--include-path-regex", "^/v1/(introspect|revoke|explain)$"],
      1,
    );
    console.log(`[fuzz] issuer: anonymous ${describeRun(anonymous)}; as the auditor ${describeRun(audited)}`);
    expect(anonymous.failures, anonymous.output.slice(-4000)).toEqual([]);
    expect(audited.failures, audited.output.slice(-4000)).toEqual([]);
    expect(anonymous.serverErrors + audited.serverErrors).toBe(0);
    expect(anonymous.requests).toBeGreaterThanOrEqual(MIN_REQUESTS);
    // Still alive and ready: no crash, no wedged event loop.
    expect(await controller.readyzStatus()).toBe(200);
    expect(controller.child.exitCode).toBeNull();
    const health = await fetch(controller.readyzUrl.replace(/\/readyz$/, PATH_HEALTHZ));
    expect(health.status).toBe(200);
  }, 1_200_000);

  it(`the sidecar answers ${String(MIN_REQUESTS)}+ generated requests without a server error and keeps serving its token`, async () => {
    const run = await fuzzUntil("docs/sidecar-openapi.yaml", `http://127.0.0.1:${String(sidecar.port)}`, [], MIN_REQUESTS);
    console.log(`[fuzz] sidecar: ${describeRun(run)}`);
    expect(run.failures, run.output.slice(-4000)).toEqual([]);
    expect(run.serverErrors).toBe(0);
    expect(run.requests).toBeGreaterThanOrEqual(MIN_REQUESTS);
    expect((await sidecar.token("name=payments")).status).toBe(200);
  }, 1_200_000);
});
