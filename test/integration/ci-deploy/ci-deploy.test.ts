// A CI deploy Job end to end: the kube-apiserver itself accepts its Tessera token, and RBAC limits it to staging.
//
// On a private control plane started with examples/ci-deploy/apiserver/authentication-config.yaml, the real controller
// process, the examples applied with the real kubectl, a Job pod injected by the webhook, a real sidecar process
// keeping the token in a file, and kubectl using that file through the example Job's kubeconfig.
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1ConfigMap, V1Container, V1Pod } from "@kubernetes/client-node";
import { AppsV1Api } from "@kubernetes/client-node";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  API_GROUP,
  API_VERSION,
  DEFAULT_TESSERA_AUDIENCE,
  ENV_ISSUER_URL,
  ENV_TOKENS,
  GRANT_TYPE_TOKEN_EXCHANGE,
  PATH_INTROSPECT,
  RESOURCE_TOKEN_POLICIES,
  TOKEN_TYPE_JWT,
} from "../../../api/constants.ts";
import type { SidecarTokenSpec } from "../../../api/exchange.ts";
import type { TokenPolicy } from "../../../api/token-policy.ts";
import { freeLoopbackPort } from "../../controlplane/ports.ts";
import { call, exchange } from "../issuer/exchange-harness.ts";
import { startSidecarProcess, type SidecarProcess } from "../sidecar/sidecar-process.ts";
import { createPod, createServiceAccount, EXAMPLES_DIR, kubeBody, mintProjectedToken, waitFor, writeProjectedTokenFile } from "../support/index.ts";
import { createJobPod } from "./job-pod.ts";
import { jobKubeconfig, kubectl, type KubectlResult } from "./kubectl.ts";
import { startCiDeployStack, type CiDeployStack } from "./stack.ts";

const EXAMPLE = join(EXAMPLES_DIR, "ci-deploy");
const APISERVER_AUDIENCE = "https://kubernetes.default.svc";
const JOB = "deploy-staging";
const JOB_POD = "deploy-staging-7x2kq";
const USERNAME = "tessera:system:serviceaccount:ci:deploy";
const GROUP = "tessera:deploy:staging";

let stack: CiDeployStack;
let scratch: string;
/** What beforeAll started, last first: afterAll undoes only that, even when beforeAll failed half way. */
const cleanups: (() => Promise<unknown>)[] = [];
let adminKubeconfig: string;
let deployKubeconfig: string;
let tokenDir: string;
let sidecar: SidecarProcess | undefined;
let jobPod: V1Pod;
let subjectToken: string;
/** kubectl apply -f examples/ci-deploy/, as an operator runs it. */
let exampleApply: KubectlResult;
/** Every token this run handled, to be absent from every log. */
const seenTokens: string[] = [];

const admin = (args: readonly string[], stdin?: string) => kubectl(adminKubeconfig, scratch, args, stdin);
const deployer = (args: readonly string[], stdin?: string) => kubectl(deployKubeconfig, scratch, args, stdin);

function sidecarContainer(pod: V1Pod): V1Container {
  const container = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === "tessera-sidecar");
  if (container === undefined) throw new Error(`pod ${pod.metadata?.name ?? ""} has no tessera-sidecar container`);
  return container;
}

function envOf(container: V1Container, name: string): string {
  const value = container.env?.find((e) => e.name === name)?.value;
  if (value === undefined) throw new Error(`the sidecar container has no ${name}`);
  return value;
}

async function configMapData(namespace: string, name: string, key: string): Promise<string> {
  const cm: V1ConfigMap = await stack.clients.core.readNamespacedConfigMap({ namespace, name });
  const value = cm.data?.[key];
  if (value === undefined) throw new Error(`ConfigMap ${namespace}/${name} has no ${key}`);
  return value;
}

/** The token file the sidecar keeps, as kubectl reads it through tokenFile. */
function tokenFile(): string {
  return join(tokenDir, "kubernetes.default.svc");
}

function exchangeFor(token: string) {
  return exchange(
    { url: stack.issuerUrl, caPem: stack.issuerCaPem },
    { grant_type: GRANT_TYPE_TOKEN_EXCHANGE, subject_token: token, subject_token_type: TOKEN_TYPE_JWT, audience: APISERVER_AUDIENCE },
  );
}

function introspect(token: string) {
  return call({ url: stack.issuerUrl, caPem: stack.issuerCaPem }, PATH_INTROSPECT, {
    method: "POST",
    body: new URLSearchParams({ token }).toString(),
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Bearer ${stack.auditorToken}` },
  });
}

/** A pod of `serviceAccount` in ci and a projected token bound to it (the kubelet's part). */
async function podWithToken(serviceAccount: string, name: string): Promise<string> {
  const pod = await createPod("ci", { name, serviceAccountName: serviceAccount }, stack.clients);
  const token = await mintProjectedToken({ namespace: "ci", serviceAccount, pod, audience: DEFAULT_TESSERA_AUDIENCE }, stack.clients);
  seenTokens.push(token);
  return token;
}

/** The decision records (JSON log lines) the controller wrote so far. */
function decisionRecords(): Record<string, unknown>[] {
  return stack
    .controllerOutput()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record["msg"] === "token decision");
}

function tokenPolicy(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: "TokenPolicy",
    metadata: { name, namespace: "ci" },
    spec: { owner: { team: "ci" }, subjects: { serviceAccounts: ["deploy"] }, ...spec },
  });
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "tessera-ci-deploy-"));
  cleanups.unshift(() => rm(scratch, { recursive: true, force: true }));
  stack = await startCiDeployStack(scratch);
  cleanups.unshift(() => stack.stop());
  adminKubeconfig = stack.controlPlane.kubeconfigPath;

  // The ci team had a TokenPolicy for the apiserver's audience before the operator's guardrail existed.
  expect((await admin(["apply", "-f", join(EXAMPLE, "namespaces.yaml")])).code).toBe(0);
  await createServiceAccount("ci", "builder", stack.clients);
  await stack.clients.custom.createNamespacedCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    plural: RESOURCE_TOKEN_POLICIES,
    namespace: "ci",
    body: {
      apiVersion: `${API_GROUP}/${API_VERSION}`,
      kind: "TokenPolicy",
      metadata: { name: "builder-cluster-access", namespace: "ci" },
      spec: { owner: { team: "ci" }, subjects: { serviceAccounts: ["builder"] }, audiences: [APISERVER_AUDIENCE], ttlSeconds: 600 },
    } satisfies TokenPolicy,
  });

  // The operator's part: the example as it is, and a prod namespace. The controller publishes the issuer CA where
  // injected sidecars read it, since the example labels `ci` for injection.
  exampleApply = await admin(["apply", "-f", EXAMPLE]);
  expect(exampleApply).toMatchObject({ code: 0 });
  const publishedCa = await waitFor(
    async () => {
      const cm: V1ConfigMap = await stack.clients.core.readNamespacedConfigMap({ namespace: "ci", name: "tessera-issuer-ca" });
      return cm.data?.["ca.crt"];
    },
    { description: "the controller to publish the issuer CA into ci" },
  );
  expect(publishedCa.trim()).toContain(stack.issuerCaPem.trim());
  expect((await admin(["create", "namespace", "prod"])).code).toBe(0);

  // The Job controller's part: the Job's pod, which the webhook injects.
  jobPod = await waitFor(() => createJobPod(stack.clients, "ci", JOB, JOB_POD), { description: "the Job's pod to be admitted" });

  // The kubelet's part: the projected token file, and the sidecar as the webhook configured it.
  subjectToken = await mintProjectedToken({ namespace: "ci", serviceAccount: "deploy", pod: jobPod, audience: DEFAULT_TESSERA_AUDIENCE }, stack.clients);
  seenTokens.push(subjectToken);
  const subjectTokenFile = await writeProjectedTokenFile(join(scratch, "subject"), subjectToken);
  const caFile = join(scratch, "issuer-ca.crt");
  await writeFile(caFile, stack.issuerCaPem);
  // The pod's emptyDir, which exists before any container starts.
  tokenDir = join(scratch, "tokens");
  await mkdir(tokenDir, { mode: 0o700 });
  const injected = sidecarContainer(jobPod);
  sidecar = startSidecarProcess({
    issuerUrl: envOf(injected, ENV_ISSUER_URL),
    caFile,
    subjectTokenFile,
    tokenDir,
    tokens: JSON.parse(envOf(injected, ENV_TOKENS)) as SidecarTokenSpec[],
    port: await freeLoopbackPort(),
  });
  const running = sidecar;
  cleanups.unshift(() => running.terminate());
  await waitFor(async () => (await running.get("/readyz").catch(() => ({ status: 0 }))).status === 200, {
    timeoutMs: 60_000,
    description: "the sidecar to hold the apiserver token",
  });

  // The Job's container: the example kubeconfig, pointed at this apiserver and the sidecar's token directory.
  const apiserverCa = join(scratch, "apiserver-ca.crt");
  await writeFile(apiserverCa, stack.controlPlane.caPem);
  deployKubeconfig = await jobKubeconfig(await configMapData("ci", "deploy-kubeconfig", "kubeconfig"), {
    server: stack.controlPlane.apiserverUrl,
    caFile: apiserverCa,
    tokenDir,
    path: join(scratch, "deploy.kubeconfig"),
  });
  // The apiserver fetches the issuer's discovery document and keys in the background after it starts.
  const waitingSince = Date.now();
  await waitFor(
    async () => {
      const whoami = await deployer(["auth", "whoami"]);
      if (whoami.code === 0) return true;
      // A failure explains itself: kubectl's answer and what the apiserver logged about its JWT authenticator.
      const log = await readFile(stack.controlPlane.logPaths.apiserver, "utf8");
      const authn = log.split("\n").filter((line) => /jwt|oidc|authenticat/i.test(line)).slice(-8).join("\n");
      throw new Error(`kubectl auth whoami: ${whoami.stderr.trim()}\napiserver:\n${authn}`);
    },
    { timeoutMs: 90_000, intervalMs: 1000, description: "the apiserver to accept the token" },
  );
  console.log(`[ci-deploy] the apiserver accepted the sidecar's token ${Date.now() - waitingSince} ms after the sidecar was ready`);
}, 300_000);

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

describe("a CI deploy Job whose Tessera token the kube-apiserver accepts", () => {
  it("has the sidecar injected into the Job's pod, holding a token for the apiserver's audience", () => {
    const tokens = JSON.parse(envOf(sidecarContainer(jobPod), ENV_TOKENS)) as SidecarTokenSpec[];
    expect(tokens).toEqual([{ name: "kubernetes.default.svc", audience: APISERVER_AUDIENCE }]);
  });

  it("serves the same token from the file kubectl reads and from the loopback endpoint", async () => {
    const fromFile = await readFile(tokenFile(), "utf8");
    const served = await sidecar?.token(`name=kubernetes.default.svc`);
    seenTokens.push(fromFile);
    expect(served?.status).toBe(200);
    expect(served?.json["access_token"]).toBe(fromFile);
    const claims = decodeJwt(fromFile);
    expect(claims).toMatchObject({
      iss: stack.issuerUrl,
      aud: APISERVER_AUDIENCE,
      sub: "system:serviceaccount:ci:deploy",
      groups: [GROUP],
      "tessera.dev/policy": { kind: "ClusterTokenPolicy", name: "ci-deploy-staging" },
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(300);
  });

  it("is known to the apiserver as the deploy service account in the staging deploy group, with the pod in its extras", async () => {
    const whoami = await deployer(["auth", "whoami", "-o", "json"]);
    expect(whoami.code).toBe(0);
    const review = JSON.parse(whoami.stdout) as { status: { userInfo: { username: string; groups: string[]; extra: Record<string, string[]> } } };
    expect(review.status.userInfo.username).toBe(USERNAME);
    expect(review.status.userInfo.groups).toEqual(expect.arrayContaining([GROUP, "system:authenticated"]));
    expect(review.status.userInfo.extra["tessera.dev/pod"]).toEqual([`ci/${JOB_POD}`]);
  });

  it("lets kubectl create the release's Deployment and ConfigMap in staging", async () => {
    const releaseFile = join(scratch, "release.yaml");
    await writeFile(releaseFile, await configMapData("ci", "staging-release", "release.yaml"));
    const applied = await deployer(["apply", "--server-side", "--field-manager=ci-deploy", "-f", releaseFile]);
    expect(applied).toMatchObject({ code: 0 });
    expect(applied.stdout).toContain("deployment.apps/web serverside-applied");
    expect(applied.stdout).toContain("configmap/web-config serverside-applied");
    const deployment = await stack.clients.kubeConfig.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: "staging", name: "web" });
    expect(deployment.metadata?.managedFields?.map((f) => f.manager)).toContain("ci-deploy");
    expect(await configMapData("staging", "web-config", "GREETING")).toBe("hello from the ci deploy job");
  });

  it.each([
    ["a ConfigMap in prod", ["-n", "prod", "create", "configmap", "x", "--from-literal=a=b"], 'cannot create resource "configmaps" in API group "" in the namespace "prod"'],
    ["a Deployment in prod", ["-n", "prod", "create", "deployment", "web", "--image=registry.k8s.io/pause:3.10"], 'cannot create resource "deployments" in API group "apps" in the namespace "prod"'],
    ["listing namespaces (cluster-scoped)", ["get", "namespaces"], 'cannot list resource "namespaces" in API group "" at the cluster scope'],
    ["creating a ClusterRoleBinding (cluster-scoped)", ["create", "clusterrolebinding", "escalate", "--clusterrole=cluster-admin", `--group=${GROUP}`], 'cannot create resource "clusterrolebindings"'],
    ["reading Secrets in staging", ["-n", "staging", "get", "secrets"], 'cannot list resource "secrets" in API group "" in the namespace "staging"'],
    ["creating a Secret in staging", ["-n", "staging", "create", "secret", "generic", "x", "--from-literal=a=b"], 'cannot create resource "secrets" in API group "" in the namespace "staging"'],
  ])("is Forbidden: %s", async (_name, args, message) => {
    const result = await deployer(args);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/forbidden/i);
    expect(result.stderr).toContain(`User "${USERNAME}" ${message}`);
  });

  it("records the decision with the Job's subject vector, the cluster policy and the granted group", () => {
    const allowed = decisionRecords().filter((r) => r["allowed"] === true && (r["subject"] as { pod?: { name?: string } }).pod?.name === JOB_POD);
    expect(allowed.length).toBeGreaterThan(0);
    expect(allowed[0]).toMatchObject({
      subject: {
        serviceAccount: { namespace: "ci", name: "deploy" },
        namespace: { name: "ci", labels: { "kubernetes.io/metadata.name": "ci", "tessera.dev/inject": "enabled" } },
        pod: {
          name: JOB_POD,
          uid: jobPod.metadata?.uid,
          labels: { "batch.kubernetes.io/job-name": JOB },
          owner: { apiVersion: "batch/v1", kind: "Job", name: JOB },
        },
        cluster: { name: "ci-deploy-test", environment: "staging" },
      },
      requested: { audiences: [APISERVER_AUDIENCE] },
      policy: { ref: "ClusterTokenPolicy/ci-deploy-staging" },
      granted: { audiences: [APISERVER_AUDIENCE], ttlSeconds: 300, claims: { groups: [GROUP] } },
    });
  });

  it("denies a pod of the deploy service account that no Job owns, with the condition's message", async () => {
    const answer = await exchangeFor(await podWithToken("deploy", "deploy-by-hand"));
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({
      error: "access_denied",
      tessera_reason: "ConditionFailed",
      error_description: expect.stringContaining("only pods created by a Job may deploy") as unknown,
    });
  });
});

describe("only a ClusterTokenPolicy grants the apiserver's audience or groups", () => {
  it("refuses a TokenPolicy in ci that grants the apiserver's audience, naming the guardrail", async () => {
    const result = await admin(["apply", "-f", "-"], tokenPolicy("deploy-myself", { audiences: [APISERVER_AUDIENCE] }));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('admission webhook "policies.validate.tessera.dev" denied the request');
    expect(result.stderr).toContain(
      `spec.audiences[0]: audience '${APISERVER_AUDIENCE}' is reserved for ClusterTokenPolicies by ClusterTokenPolicy/ci-deploy-staging (guardrails.reservedAudiences)`,
    );
  });

  it("refuses a TokenPolicy in ci that sets groups, naming the rule that reserves it", async () => {
    const result = await admin(
      ["apply", "-f", "-"],
      tokenPolicy("group-myself", { audiences: ["https://reports.internal.example"], claims: [{ name: "groups", expression: `["${GROUP}"]` }] }),
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("claim groups carries authorization only a ClusterTokenPolicy may grant");
  });

  it("warned about a TokenPolicy that predates the guardrail, marks it not accepted and denies its tokens at issuance", async () => {
    expect(exampleApply.stderr).toContain("builder-cluster-access");
    await waitFor(async () => {
      const stored = (await stack.clients.custom.getNamespacedCustomObject({
        group: API_GROUP,
        version: API_VERSION,
        plural: RESOURCE_TOKEN_POLICIES,
        namespace: "ci",
        name: "builder-cluster-access",
      })) as { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } };
      expect(stored.status?.conditions?.find((c) => c.type === "Accepted")).toMatchObject({ status: "False", reason: "GuardrailViolation" });
      return true;
    });
    // The cluster owns the apiserver's audience (the example's audienceOwnership): the TokenPolicy is never consulted.
    const answer = await exchangeFor(await podWithToken("builder", "builder-0"));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: "invalid_target", tessera_reason: "AudienceNotAllowed" });
    expect((answer.body as { error_description: string }).error_description).toContain("owned by the cluster (ClusterTokenPolicy/ci-deploy-staging");
  });
});

describe("the apiserver's own checks on Tessera tokens", () => {
  it("refuses a token whose groups leave tessera:, even when a ClusterTokenPolicy granted it", async () => {
    // An operator's mistake: a cluster grant of system:masters. Tessera mints it; the apiserver's userValidationRules refuse it.
    await createServiceAccount("ci", "escalator", stack.clients);
    const applied = await admin(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: `${API_GROUP}/${API_VERSION}`,
        kind: "ClusterTokenPolicy",
        metadata: { name: "mistaken-admin" },
        spec: {
          owner: { team: "platform" },
          subjects: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ci" } }, serviceAccounts: ["escalator"] },
          audiences: [APISERVER_AUDIENCE],
          ttlSeconds: 300,
          claims: [{ name: "groups", expression: '["system:masters"]' }],
        },
      }),
    );
    expect(applied).toMatchObject({ code: 0 });
    const subject = await podWithToken("escalator", "escalator-0");
    const minted = await waitFor(async () => {
      const answer = await exchangeFor(subject);
      return answer.status === 200 ? (answer.body as { access_token: string }).access_token : undefined;
    }, { description: "the controller to serve the new ClusterTokenPolicy" });
    seenTokens.push(minted);
    const tokenOnly = join(scratch, "escalator.kubeconfig");
    await writeFile(tokenOnly, (await readFile(deployKubeconfig, "utf8")).replace(/tokenFile: .*/, `token: ${minted}`), { mode: 0o600 });
    const result = await kubectl(tokenOnly, scratch, ["get", "namespaces"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("Unauthorized");
    // The refusal is the validation rule's, not some other failure of the token.
    expect(await readFile(stack.controlPlane.logPaths.apiserver, "utf8")).toContain("failed: Tessera tokens may only carry groups that start with tessera:");
  });
});

describe("only while the Job runs", () => {
  it("denies a Job pod that has finished (what the Job controller leaves behind when the Job completes)", async () => {
    const finished = await createJobPod(stack.clients, "ci", JOB, "deploy-staging-done1");
    const token = await mintProjectedToken({ namespace: "ci", serviceAccount: "deploy", pod: finished, audience: DEFAULT_TESSERA_AUDIENCE }, stack.clients);
    seenTokens.push(token);
    expect((await exchangeFor(token)).status).toBe(200);
    // The kubelet's part when the Job's container exits 0.
    await stack.clients.core.replaceNamespacedPodStatus({
      namespace: "ci",
      name: "deploy-staging-done1",
      body: kubeBody<V1Pod>({ metadata: { name: "deploy-staging-done1", namespace: "ci", resourceVersion: finished.metadata?.resourceVersion ?? "" }, status: { phase: "Succeeded" } }),
    });
    const denied = await waitFor(async () => {
      const answer = await exchangeFor(token);
      return answer.status === 400 ? answer : undefined;
    }, { description: "the controller's cache to see the pod finished" });
    expect(denied.body).toMatchObject({ error: "invalid_grant", error_description: expect.stringContaining("has finished (Succeeded)") as unknown });
  });
});

describe("after the Job's pod is deleted", () => {
  it("the sidecar gets no token, introspection says the old one is inactive, and only RBAC stops the old one before exp", async () => {
    const oldToken = await readFile(tokenFile(), "utf8");
    seenTokens.push(oldToken);
    expect((await introspect(oldToken)).body).toMatchObject({ active: true, sub: "system:serviceaccount:ci:deploy" });

    const deletedAt = Date.now();
    await stack.clients.core.deleteNamespacedPod({ namespace: "ci", name: JOB_POD, gracePeriodSeconds: 0 });
    await waitFor(async () => (await sidecar?.get("/readyz"))?.body === "pod is gone\n", { timeoutMs: 30_000, intervalMs: 50, description: "the sidecar to see the pod gone" });
    const remaining = (decodeJwt(oldToken).exp ?? 0) - Math.floor(Date.now() / 1000);
    console.log(`[ci-deploy] pod deletion reached the sidecar after ${Date.now() - deletedAt} ms; the old token had ${remaining} s left at the apiserver`);
    expect((await sidecar?.token("name=kubernetes.default.svc"))?.json).toMatchObject({ tessera_sidecar_error: "POD_GONE" });
    await expect(access(tokenFile())).rejects.toThrow();
    expect((await exchangeFor(subjectToken)).body).toMatchObject({ error: "invalid_grant" });
    expect((await introspect(oldToken)).body).toStrictEqual({ active: false });

    // The apiserver verifies signatures and exp offline: the token it was handed keeps working until it expires.
    const tokenOnly = join(scratch, "token-only.kubeconfig");
    await writeFile(tokenOnly, (await readFile(deployKubeconfig, "utf8")).replace(/tokenFile: .*/, `token: ${oldToken}`), { mode: 0o600 });
    const stillAccepted = await kubectl(tokenOnly, scratch, ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]);
    expect(stillAccepted).toMatchObject({ code: 0, stdout: USERNAME });
    expect((decodeJwt(oldToken).exp ?? 0) * 1000).toBeGreaterThan(Date.now());

    // The emergency brake for tokens already handed out: RBAC is checked on every request.
    expect(await kubectl(tokenOnly, scratch, ["-n", "staging", "get", "configmaps", "web-config"])).toMatchObject({ code: 0 });
    await stack.clients.rbac.deleteNamespacedRoleBinding({ namespace: "staging", name: "tessera-deploy" });
    const braked = await waitFor(async () => {
      const result = await kubectl(tokenOnly, scratch, ["-n", "staging", "get", "configmaps", "web-config"]);
      return result.code === 0 ? undefined : result;
    }, { description: "RBAC to drop the deleted RoleBinding" });
    expect(braked.stderr).toContain(`User "${USERNAME}" cannot get resource "configmaps" in API group "" in the namespace "staging"`);
  });

  it("no log of the controller or the sidecar contains a token", () => {
    const logs = stack.controllerOutput() + (sidecar?.output() ?? "");
    expect(logs).toContain("token decision");
    for (const token of seenTokens) expect(logs).not.toContain(token);
  });
});
