// What every fault test stands on: a control plane (private when the test breaks it), Tessera's CRDs, a granting
// TokenPolicy, pods with projected tokens, and the real controller process as replicas, reached over HTTPS.
import { readFile } from "node:fs/promises";
import { API_GROUP, API_VERSION, DEFAULT_TESSERA_AUDIENCE, RESOURCE_TOKEN_POLICIES } from "../../../api/constants.ts";
import { kubeClientFromConfig } from "../../../controller/src/kube/kube-http.ts";
import { readWebhookSecret } from "../../../controller/src/tls/serving-material.ts";
import { startControlPlane, type ControlPlane } from "../../controlplane/harness.ts";
import type { ControlPlaneInfo } from "../../controlplane/info.ts";
import { freeControllerPorts, spawnController, type ControllerPorts, type SpawnedController } from "../support/controller-launcher.ts";
import { issuerHttp, type IssuerHttp } from "../support/issuer-http.ts";
import {
  applyCrds,
  controlPlaneInfo,
  createPod,
  createServiceAccount,
  freshNamespace,
  kubeClients,
  mintProjectedToken,
  waitFor,
  type KubeClients,
} from "../support/index.ts";

/** The audience the stack's policy grants its workload. */
export const FAULT_AUDIENCE = "https://ledger.faults.example";
/** The workload's service account; the policy grants it FAULT_AUDIENCE. */
export const WORKLOAD_SERVICE_ACCOUNT = "app";
/** The service account allowed to call the audit endpoints. */
export const AUDITOR_SERVICE_ACCOUNT = "auditor";

export interface FaultStackOptions {
  /** A control plane of the test's own, to stop or pause; otherwise the run's shared one. */
  readonly privateControlPlane: boolean;
  /** Seconds a minted token lives (the policy's ttlSeconds); default 600. */
  readonly tokenTtlSeconds?: number;
}

export interface WorkloadPod {
  readonly name: string;
  readonly uid: string;
  /** Its projected token for Tessera's audience, bound to the pod (what the kubelet would write). */
  readonly token: string;
}

export interface ReplicaOptions {
  /** Reuse ports (a replica started again where it ran before, as a restarted pod keeps its Service). */
  readonly ports?: ControllerPorts;
  /** The issuer URL in tokens, shared by replicas behind one Service; each replica's own URL by default. */
  readonly issuerPublicUrl?: string;
  /** Extra controller environment, e.g. lease timings or limits. */
  readonly env?: Readonly<Record<string, string>>;
  /** Wait for /readyz before returning; default true. */
  readonly waitReady?: boolean;
}

export interface FaultStack {
  readonly info: ControlPlaneInfo;
  /** Only for a private control plane. */
  readonly plane: ControlPlane | undefined;
  readonly clients: KubeClients;
  /** Where the controller keeps its Lease, keys and serving Secret. */
  readonly controllerNamespace: string;
  /** Where the workload pods and their policy live. */
  readonly workloadNamespace: string;
  /** Starts one controller process (a replica) named `podName`. */
  replica(podName: string, options?: ReplicaOptions): Promise<SpawnedController>;
  /** The issuer's serving CA, once the leader wrote it. */
  caPem(): Promise<string>;
  /** HTTPS to the issuer trusting its CA (created on first use). */
  http(): Promise<IssuerHttp>;
  /** A pod of the workload's service account with its projected token. */
  addPod(name: string, serviceAccount?: string): Promise<WorkloadPod>;
  /** Stops every replica started here, then a private control plane. */
  stop(): Promise<void>;
}

export async function startFaultStack(options: FaultStackOptions): Promise<FaultStack> {
  const plane = options.privateControlPlane ? await startControlPlane({ binaries: controlPlaneInfo().binaries }) : undefined;
  const info = plane?.info() ?? controlPlaneInfo();
  const clients = plane === undefined ? kubeClients() : kubeClients(plane.kubeConfig);
  await applyCrds(clients);
  const controllerNamespace = await freshNamespace("tessera-faults", {}, clients);
  const workloadNamespace = await freshNamespace("faults-work", {}, clients);
  await createServiceAccount(workloadNamespace, WORKLOAD_SERVICE_ACCOUNT, clients);
  await createServiceAccount(controllerNamespace, AUDITOR_SERVICE_ACCOUNT, clients);
  await clients.custom.createNamespacedCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    namespace: workloadNamespace,
    plural: RESOURCE_TOKEN_POLICIES,
    body: {
      apiVersion: `${API_GROUP}/${API_VERSION}`,
      kind: "TokenPolicy",
      metadata: { name: "ledger", namespace: workloadNamespace },
      spec: {
        owner: { team: "ledger" },
        subjects: { serviceAccounts: [WORKLOAD_SERVICE_ACCOUNT] },
        audiences: [FAULT_AUDIENCE],
        ttlSeconds: options.tokenTtlSeconds ?? 600,
      },
    },
  });

  const replicas: SpawnedController[] = [];
  let http: IssuerHttp | undefined;
  let ca: string | undefined;
  const caPem = async (): Promise<string> => {
    ca ??= await waitFor(
      async () => (await readWebhookSecret(kubeClientFromConfig(clients.kubeConfig), controllerNamespace))?.caBundle || undefined,
      { timeoutMs: 60_000, description: "the serving CA in the controller's Secret" },
    );
    return ca;
  };
  return {
    info,
    plane,
    clients,
    controllerNamespace,
    workloadNamespace,
    async replica(podName, replicaOptions = {}) {
      const auditor = `${controllerNamespace}/${AUDITOR_SERVICE_ACCOUNT}`;
      const controller = spawnController({
        kubeconfigPath: info.kubeconfigPath,
        namespace: controllerNamespace,
        podName,
        ports: replicaOptions.ports ?? (await freeControllerPorts()),
        issuerHost: "localhost",
        clusterName: "faults",
        environment: "test",
        sidecarImage: "tessera/sidecar:test",
        serviceAccountIssuer: info.serviceAccountIssuer,
        callers: { introspect: auditor },
        logLevel: "warn",
        ...(replicaOptions.env === undefined ? {} : { baseEnv: replicaOptions.env }),
        ...(replicaOptions.issuerPublicUrl === undefined ? {} : { issuerPublicUrl: replicaOptions.issuerPublicUrl }),
      });
      replicas.push(controller);
      if (replicaOptions.waitReady ?? true) {
        await waitFor(async () => (await controller.readyzStatus()) === 200, {
          timeoutMs: 120_000,
          description: `${podName}'s /readyz\n${controller.output().slice(-2000)}`,
        });
      }
      return controller;
    },
    caPem,
    async http() {
      http ??= issuerHttp(await caPem());
      return http;
    },
    async addPod(name, serviceAccount = WORKLOAD_SERVICE_ACCOUNT) {
      const namespace = serviceAccount === AUDITOR_SERVICE_ACCOUNT ? controllerNamespace : workloadNamespace;
      const pod = await createPod(namespace, { name, serviceAccountName: serviceAccount }, clients);
      const token = await mintProjectedToken(
        { namespace, serviceAccount, pod, audience: DEFAULT_TESSERA_AUDIENCE, expirationSeconds: 3600 },
        clients,
      );
      return { name, uid: pod.metadata?.uid ?? "", token };
    },
    async stop() {
      http?.close();
      await Promise.all(replicas.map((r) => r.stop(5_000)));
      await plane?.stop();
    },
  };
}

/** Resident set size of a process in bytes, from /proc (Linux). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${String(pid)}/status`, "utf8");
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS for pid ${String(pid)}`);
  return Number(kib) * 1024;
}
