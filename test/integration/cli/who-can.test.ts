// who-can against a real kube-apiserver (the live TokenPolicies, contracts, Namespaces and ServiceAccounts, listed
// read-only), and `kubectl tessera ...` through kubectl's own plugin mechanism: a kubectl-tessera found on PATH.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_GROUP, API_VERSION, RESOURCE_CLUSTER_TOKEN_POLICIES, RESOURCE_TOKEN_AUDIENCES, RESOURCE_TOKEN_POLICIES } from "../../../api/constants.ts";
import { runWhoCan } from "../../../controller/src/cli/who-can.ts";
import { applyCrds, controlPlaneInfo, createServiceAccount, EXAMPLES_DIR, freshNamespace, kubeClients, REPO_ROOT } from "../support/index.ts";

const clients = kubeClients();
const suffix = randomBytes(4).toString("hex");
/** An audience of this run only: the shared control plane holds other tests' policies too. */
const AUDIENCE = `https://who-can-${suffix}.internal.example`;

let caller = "";
let owner = "";

async function whoCan(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runWhoCan(args, { stdout: (t) => (out += t), stderr: (t) => (err += t), now: () => new Date() });
  return { code, out, err };
}

beforeAll(async () => {
  await applyCrds(clients);
  owner = await freshNamespace("who-can-owner");
  caller = await freshNamespace("who-can-caller", { tier: "backend" });
  for (const name of ["api", "batch", "web"]) await createServiceAccount(caller, name, clients);
  await clients.custom.createClusterCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    plural: RESOURCE_CLUSTER_TOKEN_POLICIES,
    body: {
      apiVersion: `${API_GROUP}/${API_VERSION}`,
      kind: "ClusterTokenPolicy",
      metadata: { name: `who-can-owners-${suffix}` },
      spec: {
        owner: { team: "platform" },
        audienceOwnership: [{ audiences: [AUDIENCE], ownedBy: "Namespaces", namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": owner } } }],
      },
    },
  });
  await clients.custom.createNamespacedCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    namespace: owner,
    plural: RESOURCE_TOKEN_AUDIENCES,
    body: {
      apiVersion: `${API_GROUP}/${API_VERSION}`,
      kind: "TokenAudience",
      metadata: { name: "api", namespace: owner },
      spec: {
        audience: AUDIENCE,
        owner: { team: "owners", contact: "#owners" },
        scopes: [{ name: "read", description: "Read." }, { name: "write", description: "Write." }],
        callers: [
          { name: "api", serviceAccounts: [{ namespace: caller, name: "api" }], scopes: ["read", "write"] },
          { name: "batch", serviceAccounts: [{ namespace: caller, name: "batch" }], scopes: ["read"] },
        ],
      },
    },
  });
  await clients.custom.createNamespacedCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    namespace: caller,
    plural: RESOURCE_TOKEN_POLICIES,
    body: {
      apiVersion: `${API_GROUP}/${API_VERSION}`,
      kind: "TokenPolicy",
      metadata: { name: "callers", namespace: caller },
      spec: {
        owner: { team: "callers" },
        subjects: { serviceAccounts: ["api", "batch"] },
        audiences: [AUDIENCE],
        scopes: { allowed: ["read", "write"], default: ["read"] },
        conditions: [
          { name: "backend-pods", expression: 'pod.labels["role"] == "backend"', message: "backend pods only" },
          { name: "backend-namespace", expression: 'namespace.labels["tier"] == "backend"', message: "backend namespaces only" },
        ],
      },
    },
  });
});

describe("who-can against a live cluster", () => {
  it("lists who can write through which policy and contract, and the owner's refusal of the rest", async () => {
    const { code, out, err } = await whoCan([AUDIENCE, "write", "--kubeconfig", controlPlaneInfo().kubeconfigPath, "-o", "json"]);
    expect(err).toBe("");
    expect(code).toBe(0);
    const report = JSON.parse(out) as {
      grants: { serviceAccount: string; policy: string; owner: string; scopes: string[]; conditions: string[] }[];
      refused: { serviceAccount: string; reason: string; deniedBy: string }[];
    };
    expect(report.grants).toEqual([
      expect.objectContaining({
        serviceAccount: `${caller}/api`,
        policy: `TokenPolicy/${caller}/callers`,
        owner: `TokenAudience/${owner}/api (callers api)`,
        scopes: ["write"],
        // The namespace condition is decided from the live Namespace; the pod condition cannot be, so it is an "if".
        conditions: ['backend-pods: pod.labels["role"] == "backend"'],
      }),
    ]);
    expect(report.refused).toEqual([expect.objectContaining({ serviceAccount: `${caller}/batch`, reason: "AudienceOwnerDenied", deniedBy: "owner" })]);
  });

  it("answers the default scopes for both accounts the contract admits; web, which no policy names, is not a candidate", async () => {
    const { code, out } = await whoCan([AUDIENCE, "--kubeconfig", controlPlaneInfo().kubeconfigPath]);
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`^${caller}/api +TokenPolicy/${caller}/callers .* read +600s +if backend-pods: `, "m"));
    expect(out).toMatch(new RegExp(`^${caller}/batch +TokenPolicy/${caller}/callers .* read +600s +if backend-pods: `, "m"));
    expect(out).not.toContain(`${caller}/web`);
  });
});

/** kubectl's absolute path, when it is on PATH; the plugin test needs the real one. */
function kubectlPath(): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    try {
      accessSync(join(dir, "kubectl"), constants.X_OK);
      return join(dir, "kubectl");
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

const KUBECTL = kubectlPath();

// kubectl is not something this repository builds; CI images carry it (the ci-deploy test needs it too). Without it
// there is no plugin mechanism to test.
describe.skipIf(KUBECTL === undefined)("kubectl tessera, through kubectl's plugin mechanism", () => {
  let bin = "";

  beforeAll(async () => {
    bin = await mkdtemp(join(tmpdir(), "tessera-kubectl-plugin-"));
    // What `npm install` puts on PATH as kubectl-tessera, run from the sources: the same entry point under tsx.
    const wrapper = join(bin, "kubectl-tessera");
    const tsx = join(REPO_ROOT, "node_modules", "tsx", "dist", "esm", "index.mjs");
    await writeFile(wrapper, `#!/bin/sh\nexec "${process.execPath}" --import "${tsx}" "${join(REPO_ROOT, "controller", "src", "cli", "main.ts")}" "$@"\n`);
    await chmod(wrapper, 0o755);
  });

  afterAll(async () => {
    if (bin !== "") await rm(bin, { recursive: true, force: true });
  });

  function kubectl(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      execFile(
        KUBECTL ?? "kubectl",
        [...args],
        // Only the plugin's folder, node's and the system's on PATH: kubectl must find kubectl-tessera there.
        { env: { PATH: [bin, dirname(process.execPath), "/usr/bin", "/bin"].join(delimiter), HOME: bin }, timeout: 60_000 },
        (error, stdout, stderr) => {
          if (error !== null && typeof error.code !== "number") reject(new Error(`kubectl did not run: ${error.message}`));
          else resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
        },
      );
    });
  }

  it("is listed by kubectl plugin list", async () => {
    const { stdout } = await kubectl(["plugin", "list"]);
    expect(stdout).toContain(join(bin, "kubectl-tessera"));
  });

  it("runs kubectl tessera test on an example's suite", async () => {
    const { code, stdout } = await kubectl(["tessera", "test", join(EXAMPLES_DIR, "ci-deploy")]);
    expect(stdout).toMatch(/cases in 1 suites: \d+ passed, 0 failed/);
    expect(code).toBe(0);
  });

  it("runs kubectl tessera check, and passes a failing exit code through", async () => {
    expect((await kubectl(["tessera", "check", join(EXAMPLES_DIR, "internal-api")])).code).toBe(0);
    expect((await kubectl(["tessera", "test", bin])).code).toBe(1);
  });

  it("runs kubectl tessera who-can against the live cluster with the kubeconfig it is given", async () => {
    const { code, stdout, stderr } = await kubectl(["tessera", "who-can", AUDIENCE, "write", "--kubeconfig", controlPlaneInfo().kubeconfigPath]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^${caller}/api +TokenPolicy/${caller}/callers`, "m"));
  });

  it("runs kubectl tessera explain --help", async () => {
    const { code, stdout } = await kubectl(["tessera", "explain", "--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("Usage: tessera explain");
  });
});
