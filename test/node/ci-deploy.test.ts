// The CI deploy example (examples/ci-deploy) on the real node, applied as its README says: the deploy Job's pod holds a
// five-minute Tessera token in a file, the Job's kubectl deploys the release into staging with it, and the same
// token is Forbidden anywhere else. The apiserver trusts Tessera through the example's AuthenticationConfiguration
// (the node tier's global setup loads it, with the CA Tessera made for itself).
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppsV1Api, BatchV1Api, type V1Job, type V1ObjectMeta, type V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { kubeBody } from "../controlplane/plain.ts";
import { runKubectl, type KubectlResult } from "../integration/ci-deploy/kubectl.ts";
import { adminKubeConfig, kubeClients, type KubeClients } from "../integration/support/control-plane.ts";
import { EXAMPLES_DIR } from "../integration/support/crds.ts";
import { waitFor } from "../integration/support/wait-for.ts";
import { CI_DEPLOY_JOB_FILE } from "./example-images.ts";
import { nodeTier } from "./support.ts";

const CI = "ci";
const STAGING = "staging";
const DEPLOY_JOB = "deploy-staging";
/** The user the apiserver maps the Tessera token to (the example's claimMappings). */
const TESSERA_USER = "tessera:system:serviceaccount:ci:deploy";

/** A finished Job and its pod's container (kubectl), whose termination message holds kubectl's output on failure. */
interface FinishedJob {
  readonly job: V1Job;
  readonly kubectlMessage: string;
}

async function finishedJob(clients: KubeClients, name: string): Promise<FinishedJob> {
  const batch = adminKubeConfig().makeApiClient(BatchV1Api);
  const job = await waitFor(
    async () => {
      const current = await batch.readNamespacedJob({ name, namespace: CI });
      return (current.status?.succeeded ?? 0) > 0 || (current.status?.failed ?? 0) > 0 ? current : undefined;
    },
    { timeoutMs: 240_000, intervalMs: 1_000, description: `Job ${CI}/${name} to finish` },
  );
  const pods = await clients.core.listNamespacedPod({ namespace: CI, labelSelector: `job-name=${name}` });
  const pod: V1Pod | undefined = pods.items[0];
  const kubectlMessage = pod?.status?.containerStatuses?.find((s) => s.name === "kubectl")?.state?.terminated?.message ?? "";
  return { job, kubectlMessage };
}

/** A Job like the example's (same service account, sidecar annotation, kubeconfig, image) running other kubectl args. */
function jobLike(example: V1Job, name: string, kubectlArgs: readonly string[]): V1Job {
  const copy = structuredClone(example);
  copy.metadata = kubeBody<V1ObjectMeta>({ name, namespace: CI });
  const container = copy.spec?.template.spec?.containers[0];
  if (container === undefined) throw new Error("the example Job has no container");
  container.args = ["--kubeconfig=/etc/deploy/kubeconfig", ...kubectlArgs];
  // kubectl's error (the apiserver's Forbidden) lands in the pod's status, readable without the kubelet's log API.
  container.terminationMessagePolicy = "FallbackToLogsOnError";
  return copy;
}

interface ElsewhereCase {
  readonly name: string;
  readonly job: string;
  readonly args: readonly string[];
  readonly refusal: string;
}

const ELSEWHERE: readonly ElsewhereCase[] = [
  {
    name: "creating a ConfigMap in the default namespace",
    job: "try-default",
    args: ["create", "configmap", "intruder", "--namespace=default", "--from-literal=from=ci"],
    refusal: 'cannot create resource "configmaps" in API group "" in the namespace "default"',
  },
  {
    name: "creating a Deployment in its own ci namespace",
    job: "try-ci",
    args: ["create", "deployment", "intruder", "--namespace=ci", "--image=registry.k8s.io/pause:3.10"],
    refusal: 'cannot create resource "deployments" in API group "apps" in the namespace "ci"',
  },
  {
    name: "reading Secrets in staging, which the deploy Role leaves out",
    job: "try-secrets",
    args: ["get", "secrets", "--namespace=staging"],
    refusal: 'cannot list resource "secrets" in API group "" in the namespace "staging"',
  },
  {
    name: "listing namespaces at the cluster scope",
    job: "try-namespaces",
    args: ["get", "namespaces"],
    refusal: 'cannot list resource "namespaces" in API group "" at the cluster scope',
  },
];

// Skipped only without root, where no node can run (the global setup says why); in CI a missing node fails instead.
describe.skipIf(!nodeTier().available)("the CI deploy example on the node tier", () => {
  let clients: KubeClients;
  let scratch: string;
  let kubectl: (args: readonly string[]) => Promise<KubectlResult>;
  let exampleJob: V1Job;

  beforeAll(async () => {
    clients = kubeClients();
    scratch = await mkdtemp(join(tmpdir(), "tessera-node-ci-deploy-"));
    const controlPlane = inject("controlPlane");
    kubectl = (args) => runKubectl(controlPlane.binaries.kubectl, controlPlane.kubeconfigPath, scratch, args);
    const docs = parseAllDocuments(await readFile(CI_DEPLOY_JOB_FILE, "utf8")).map((d) => d.toJS() as { kind?: string });
    const job = docs.find((d) => d.kind === "Job");
    if (job === undefined) throw new Error(`${CI_DEPLOY_JOB_FILE} has no Job`);
    exampleJob = kubeBody<V1Job>(job);
  });

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  describe("applied as its README says", () => {
    let applied: KubectlResult;
    let deploy: FinishedJob;

    beforeAll(async () => {
      applied = await kubectl(["apply", "-f", join(EXAMPLES_DIR, "ci-deploy")]);
      deploy = await finishedJob(clients, DEPLOY_JOB);
    });

    it("is accepted by kubectl apply as it is", () => {
      expect(applied.stderr).toBe("");
      expect(applied.code).toBe(0);
      expect(applied.stdout).toContain(`job.batch/${DEPLOY_JOB} created`);
    });

    it("runs the deploy Job to completion with the sidecar holding the token its kubectl reads", () => {
      expect(deploy.kubectlMessage).toBe("");
      expect(deploy.job.status?.succeeded).toBe(1);
    });

    it("leaves the release in staging, written by the Job's kubectl", async () => {
      const apps = adminKubeConfig().makeApiClient(AppsV1Api);
      const web = await apps.readNamespacedDeployment({ name: "web", namespace: STAGING });
      expect(web.metadata?.managedFields?.map((f) => f.manager)).toContain("ci-deploy");
      const config = await clients.core.readNamespacedConfigMap({ name: "web-config", namespace: STAGING });
      expect(config.data?.["GREETING"]).toBe("hello from the ci deploy job");
      // The release runs on the node too: the Deployment the Job applied becomes available.
      const available = await waitFor(
        async () => {
          const current = await apps.readNamespacedDeployment({ name: "web", namespace: STAGING });
          return (current.status?.availableReplicas ?? 0) > 0 ? current : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 1_000, description: "the released Deployment to become available" },
      );
      expect(available.status?.availableReplicas).toBe(1);
    });
  });

  describe("the same token outside staging", () => {
    const results = new Map<string, FinishedJob>();

    beforeAll(async () => {
      const batch = adminKubeConfig().makeApiClient(BatchV1Api);
      for (const c of ELSEWHERE) await batch.createNamespacedJob({ namespace: CI, body: jobLike(exampleJob, c.job, c.args) });
      for (const c of ELSEWHERE) results.set(c.job, await finishedJob(clients, c.job));
    });

    it.each(ELSEWHERE)("is Forbidden for the deploy identity when $name", (c) => {
      const result = results.get(c.job);
      expect(result?.job.status?.failed).toBe(1);
      // Forbidden, not Unauthorized: the apiserver knew the token's holder, and RBAC refused it.
      expect(result?.kubectlMessage).toContain(`User "${TESSERA_USER}" ${c.refusal}`);
    });

    it("created nothing where it was refused", async () => {
      const intruders = [
        ...(await clients.core.listNamespacedConfigMap({ namespace: "default", fieldSelector: "metadata.name=intruder" })).items,
        ...(await adminKubeConfig().makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: CI, fieldSelector: "metadata.name=intruder" })).items,
      ];
      expect(intruders).toEqual([]);
    });
  });
});
