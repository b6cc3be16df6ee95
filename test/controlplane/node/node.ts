// Starts and stops a one-node cluster on this machine: the control plane harness's etcd and kube-apiserver (bound
// to the node's bridge address), containerd from Debian's packages, a kubelet, kube-controller-manager and
// kube-scheduler built from Go modules. Traffic stays on loopback and the node's private bridge.
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppsV1Api, CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { BinaryPaths } from "../build.ts";
import { ControlPlaneError } from "../errors.ts";
import { startControlPlane, type ControlPlane } from "../harness.ts";
import { httpsGet } from "../https-get.ts";
import { renderKubeconfig } from "../kubeconfig.ts";
import { issueCertificate } from "../pki.ts";
import { freeLoopbackPorts } from "../ports.ts";
import { ManagedProcess } from "../process.ts";
import { applyObject } from "../manifests.ts";
import { COREDNS_VERSION, PAUSE_VERSION } from "../versions.ts";
import { renderCniConfig } from "./cni-config.ts";
import { renderContainerdConfig } from "./containerd-config.ts";
import { controllerManagerArgs, schedulerArgs } from "./controllers-args.ts";
import { kubeletCgroupDirs, removeCgroupTree } from "./cgroups.ts";
import { busyboxImage, cachedArchive, importImages, pauseImage, type CachedImage } from "./images.ts";
import { kubeletArgs, renderKubeletConfig } from "./kubelet-config.ts";
import { NODE_NAME, NODE_NETWORK, nodeLayout, type NodeLayout } from "./layout.ts";
import { unmountUnder } from "./mounts.ts";
import {
  assertPodNetworkFree,
  createBridge,
  deleteBridge,
  disablePodRouting,
  enablePodRouting,
  existingLeftoverChains,
  removeNewLeftoverChains,
} from "./network.ts";
import {
  CLUSTER_DNS_IP,
  CLUSTER_DOMAIN,
  clusterDnsManifests,
  clusterDnsResolvConf,
  EMPTY_AUTHENTICATION_CONFIG,
  kubeProxyArgs,
  renderKubeProxyConfig,
} from "./services-config.ts";
import { acquireNodeLock, type NodeLock } from "./node-lock.ts";
import { ensurePackages, RUNTIME_FILES } from "./packages.ts";
import { killAllTasks, shimPids, taskIds } from "./runtime-processes.ts";
import { recordSysctls, restoreSysctls, type SysctlSnapshot } from "./sysctls.ts";
import { waitUntil } from "./wait.ts";
import { run } from "./run.ts";

export interface NodeClusterOptions {
  readonly binaries: BinaryPaths;
  readonly cacheDir: string;
  readonly log?: (line: string) => void;
  /**
   * How long to wait for another node tier on this machine to finish (60 min by default: another checkout's whole
   * test run holds the node while its tests run).
   */
  readonly lockWaitMs?: number;
}

/** Base images every node has imported: the sandbox's and busybox for test workloads. */
export interface NodeImages {
  readonly pause: string;
  readonly busybox: string;
}

/** Seconds each phase of the start took, for docs/benchmarks.md. */
export interface NodeStartTimings {
  readonly packagesS: number;
  readonly controlPlaneS: number;
  readonly containerdS: number;
  readonly imagesS: number;
  readonly nodeReadyS: number;
  readonly controllersS: number;
  readonly clusterDnsS: number;
  readonly totalS: number;
}

export interface NodeCluster {
  readonly controlPlane: ControlPlane;
  readonly nodeName: string;
  readonly layout: NodeLayout;
  readonly images: NodeImages;
  readonly timings: NodeStartTimings;
  /** Imports more image archives (e.g. Tessera's) into the node's containerd. */
  importImages(images: readonly CachedImage[]): Promise<void>;
  /** Stops everything and puts the machine back as it was; throws TEARDOWN_INCOMPLETE listing what is left. */
  stop(): Promise<void>;
}

/** The node tier needs root: it installs packages, creates a bridge, mounts and runs containers. */
export function nodeTierUnavailableReason(): string | undefined {
  if (process.platform !== "linux") return `the node tier runs on Linux only (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return "the node tier needs root (containerd, a bridge, mounts); run as root";
  return undefined;
}

const seconds = (fromMs: number): number => Math.round((Date.now() - fromMs) / 100) / 10;

async function netnsEntries(): Promise<Set<string>> {
  return new Set(await readdir("/run/netns").catch(() => []));
}

async function nodeIsReady(core: CoreV1Api, name: string): Promise<boolean> {
  const node = await core.readNode({ name });
  return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
}

/** Asks the API to delete every pod at once, so the kubelet tears sandboxes (and their CNI attachments) down. */
async function deleteAllPods(kubeConfig: KubeConfig): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const pods = await core.listPodForAllNamespaces();
  for (const pod of pods.items) {
    const name = pod.metadata?.name;
    const namespace = pod.metadata?.namespace;
    if (name === undefined || namespace === undefined) continue;
    await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
  }
}

export async function startNodeCluster(options: NodeClusterOptions): Promise<NodeCluster> {
  const log = options.log ?? (() => undefined);
  const unavailable = nodeTierUnavailableReason();
  if (unavailable !== undefined) throw new ControlPlaneError("NOT_ROOT", unavailable);

  const lock: NodeLock = await acquireNodeLock(log, options.lockWaitMs ?? 60 * 60_000);
  // Timed from holding the node: waiting for another run is not the node's start-up.
  const startedAt = Date.now();
  const state: {
    sysctls?: SysctlSnapshot;
    netnsBefore?: Set<string>;
    cgroupsBefore?: Set<string>;
    chainsBefore?: Set<string>;
    bridge?: boolean;
    routing?: boolean;
    kubeProxy?: ManagedProcess;
    controlPlane?: ControlPlane;
    layout?: NodeLayout;
    containerd?: ManagedProcess;
    kubelet?: ManagedProcess;
    controllerManager?: ManagedProcess;
    scheduler?: ManagedProcess;
  } = {};
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const problems: string[] = [];
    const step = async (what: string, action: () => Promise<void>): Promise<void> => {
      try {
        await action();
      } catch (err) {
        problems.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    // Controllers first, so nothing recreates the pods deleted next.
    await step("stop kube-controller-manager", async () => state.controllerManager?.stop());
    await step("stop kube-scheduler", async () => state.scheduler?.stop());
    const layout = state.layout;
    if (state.kubelet !== undefined && state.controlPlane !== undefined && layout !== undefined) {
      const kubeConfig = state.controlPlane.kubeConfig;
      await step("delete pods", async () => {
        await deleteAllPods(kubeConfig);
        await waitUntil("the kubelet stopped every container", 60_000, async () => (await taskIds(layout.containerdSocket)).length === 0);
      });
    }
    await step("stop kubelet", async () => state.kubelet?.stop());
    if (state.kubeProxy !== undefined) {
      const kubeProxy = state.kubeProxy;
      await step("stop kube-proxy", () => kubeProxy.stop());
      // kube-proxy's own clean-up mode removes every chain and rule it made.
      await step("remove kube-proxy's rules", async () => {
        await run(options.binaries["kube-proxy"], ["--cleanup"], { code: "TEARDOWN_INCOMPLETE" });
        if (state.chainsBefore !== undefined) await removeNewLeftoverChains(state.chainsBefore);
      });
    }
    if (layout !== undefined && state.containerd !== undefined) {
      await step("kill remaining tasks", async () => {
        if (state.containerd?.exitDescription === undefined) await killAllTasks(layout.containerdSocket);
      });
      await step("stop containerd", async () => state.containerd?.stop());
      await step("stop containerd shims", async () => {
        for (const pid of await shimPids(layout.containerdSocket)) process.kill(pid, "SIGKILL");
      });
    }
    if (layout !== undefined) {
      await step("unmount", async () => {
        const left = await unmountUnder(layout.root);
        if (left.length > 0) throw new ControlPlaneError("TEARDOWN_INCOMPLETE", `still mounted: ${left.join(", ")}`);
      });
    }
    if (state.netnsBefore !== undefined) {
      const before = state.netnsBefore;
      await step("remove pod network namespaces", async () => {
        for (const name of await netnsEntries()) {
          if (before.has(name) || !name.startsWith("cni-")) continue;
          const path = join("/run/netns", name);
          await run("umount", [path]).catch(() => undefined);
          await rm(path, { force: true });
        }
      });
    }
    if (state.cgroupsBefore !== undefined) {
      const before = state.cgroupsBefore;
      await step("remove the kubelet's cgroups", async () => {
        const left: string[] = [];
        for (const dir of await kubeletCgroupDirs()) if (!before.has(dir)) left.push(...(await removeCgroupTree(dir)));
        if (left.length > 0) throw new ControlPlaneError("TEARDOWN_INCOMPLETE", `cgroups still in use: ${left.join(", ")}`);
      });
    }
    if (state.routing === true) await step("remove the pod routing rule", disablePodRouting);
    if (state.bridge === true) await step("delete bridge", deleteBridge);
    if (state.sysctls !== undefined) {
      const snapshot = state.sysctls;
      await step("restore sysctls", async () => {
        const failed = await restoreSysctls(snapshot);
        if (failed.length > 0) throw new ControlPlaneError("TEARDOWN_INCOMPLETE", `could not restore ${failed.join(", ")}`);
      });
    }
    await step("stop control plane", async () => state.controlPlane?.stop());
    // Only once nothing is mounted below it: removing a tree with a live bind mount inside would reach through it.
    if (layout !== undefined && !problems.some((p) => p.startsWith("unmount"))) {
      await step("remove scratch directory", () => rm(layout.root, { recursive: true, force: true }));
    }
    await lock.release();
    if (problems.length > 0) {
      throw new ControlPlaneError("TEARDOWN_INCOMPLETE", `node teardown left work undone:\n${problems.join("\n")}`);
    }
  };

  try {
    let phase = Date.now();
    await ensurePackages(RUNTIME_FILES, log);
    const packagesS = seconds(phase);

    await assertPodNetworkFree();
    state.sysctls = await recordSysctls();
    state.netnsBefore = await netnsEntries();
    state.cgroupsBefore = new Set(await kubeletCgroupDirs());
    state.chainsBefore = await existingLeftoverChains();
    await createBridge(log);
    state.bridge = true;
    state.routing = true;
    await enablePodRouting();

    phase = Date.now();
    const controlPlane = await startControlPlane({
      binaries: options.binaries,
      bindAddress: NODE_NETWORK.gateway,
      forNodes: true,
      // The issuer name of clusters built by kubeadm, and the default Tessera's chart expects.
      serviceAccountIssuer: `https://kubernetes.default.svc.${CLUSTER_DOMAIN}`,
      // Like a control-plane host that resolves with the cluster DNS: it reaches Services (Tessera's issuer) by name.
      resolvConf: clusterDnsResolvConf(),
      authenticationConfig: EMPTY_AUTHENTICATION_CONFIG,
      log,
    });
    state.controlPlane = controlPlane;
    const controlPlaneS = seconds(phase);

    const layout = nodeLayout(await mkdtemp(join(tmpdir(), "tessera-node-")));
    state.layout = layout;
    for (const dir of [layout.containerdRoot, layout.containerdState, layout.runcRoot, layout.cniConfDir, layout.cniIpamDir, layout.kubeletRoot, layout.kubeletCertDir, layout.logsDir]) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    }

    phase = Date.now();
    const pause = await pauseImage(options.cacheDir, options.binaries.pause, PAUSE_VERSION);
    const busybox = await busyboxImage(options.cacheDir);
    const coredns = await cachedArchive(
      options.cacheDir,
      `tessera-coredns-${COREDNS_VERSION}.tar`,
      `localhost/tessera-coredns:${COREDNS_VERSION}`,
      { entrypoint: ["/coredns"] },
      async (rootfs) => {
        await copyFile(options.binaries.coredns, join(rootfs, "coredns"));
        await chmod(join(rootfs, "coredns"), 0o755);
      },
    );
    await writeFile(join(layout.cniConfDir, "10-tessera.conflist"), renderCniConfig({ ipamDataDir: layout.cniIpamDir }));
    await writeFile(layout.containerdConfig, renderContainerdConfig({ layout, sandboxImage: pause.reference }));
    log("starting containerd");
    const containerd = new ManagedProcess({
      name: "containerd",
      command: "containerd",
      args: ["--config", layout.containerdConfig],
      logPath: join(layout.logsDir, "containerd.log"),
      cwd: layout.root,
    });
    state.containerd = containerd;
    await waitUntil("containerd answers", 30_000, async () => {
      containerd.assertRunning();
      await run("ctr", ["--address", layout.containerdSocket, "version"], { timeoutMs: 5_000 });
      return true;
    });
    const containerdS = seconds(phase);
    phase = Date.now();
    await importImages(layout.containerdSocket, [pause, busybox, coredns]);
    const imagesS = seconds(phase);

    phase = Date.now();
    const now = new Date();
    const ca = controlPlane.ca;
    const identity = async (subject: string): Promise<string> => {
      const cert = await issueCertificate(ca, { subject, usage: "client" }, now);
      return renderKubeconfig({
        server: controlPlane.apiserverUrl,
        caPem: ca.certPem,
        clientCertPem: cert.certPem,
        clientKeyPem: cert.keyPem,
        name: NODE_NAME,
      });
    };
    await writeFile(layout.kubeletKubeconfig, await identity(`CN=system:node:${NODE_NAME}, O=system:nodes`), { mode: 0o600 });
    await writeFile(layout.controllerManagerKubeconfig, await identity("CN=system:kube-controller-manager"), { mode: 0o600 });
    await writeFile(layout.schedulerKubeconfig, await identity("CN=system:kube-scheduler"), { mode: 0o600 });
    // The bootstrap ClusterRoleBinding system:node-proxier grants this user what kube-proxy needs.
    await writeFile(layout.kubeProxyKubeconfig, await identity("CN=system:kube-proxy"), { mode: 0o600 });
    const kubeletServing = await issueCertificate(
      ca,
      { subject: `CN=${NODE_NAME}`, usage: "server", ipAddresses: [NODE_NETWORK.gateway], dnsNames: [NODE_NAME] },
      now,
    );
    const kubeletCert = join(layout.kubeletCertDir, "kubelet.crt");
    const kubeletKey = join(layout.kubeletCertDir, "kubelet.key");
    await writeFile(kubeletCert, kubeletServing.certPem);
    await writeFile(kubeletKey, kubeletServing.keyPem, { mode: 0o600 });

    const ports = await freeLoopbackPorts(6);
    const [kubeletPort, healthzPort, controllerManagerPort, schedulerPort, proxyHealthzPort, proxyMetricsPort] = ports;
    if (
      kubeletPort === undefined ||
      healthzPort === undefined ||
      controllerManagerPort === undefined ||
      schedulerPort === undefined ||
      proxyHealthzPort === undefined ||
      proxyMetricsPort === undefined
    ) {
      throw new ControlPlaneError("NO_FREE_PORT", "could not reserve six loopback ports");
    }
    await writeFile(
      layout.kubeletConfig,
      renderKubeletConfig({
        layout,
        nodeName: NODE_NAME,
        nodeIp: NODE_NETWORK.gateway,
        port: kubeletPort,
        healthzPort,
        clientCaFile: controlPlane.pkiFiles.caCert,
        tlsCertFile: kubeletCert,
        tlsPrivateKeyFile: kubeletKey,
        clusterDns: CLUSTER_DNS_IP,
      }),
    );
    log("starting kubelet");
    const kubelet = new ManagedProcess({
      name: "kubelet",
      command: options.binaries.kubelet,
      args: kubeletArgs({ layout, nodeName: NODE_NAME, nodeIp: NODE_NETWORK.gateway }),
      logPath: join(layout.logsDir, "kubelet.log"),
      cwd: layout.root,
    });
    state.kubelet = kubelet;

    log("starting kube-controller-manager and kube-scheduler");
    const servingCertFile = controlPlane.pkiFiles.servingCert;
    const servingKeyFile = controlPlane.pkiFiles.servingKey;
    const controllerManager = new ManagedProcess({
      name: "kube-controller-manager",
      command: options.binaries["kube-controller-manager"],
      args: controllerManagerArgs({
        kubeconfig: layout.controllerManagerKubeconfig,
        securePort: controllerManagerPort,
        servingCertFile,
        servingKeyFile,
        caCertFile: controlPlane.pkiFiles.caCert,
        caKeyFile: controlPlane.pkiFiles.caKey,
        saPrivateKeyFile: controlPlane.pkiFiles.saPrivate,
      }),
      logPath: join(layout.logsDir, "kube-controller-manager.log"),
      cwd: layout.root,
    });
    state.controllerManager = controllerManager;
    const scheduler = new ManagedProcess({
      name: "kube-scheduler",
      command: options.binaries["kube-scheduler"],
      args: schedulerArgs({ kubeconfig: layout.schedulerKubeconfig, securePort: schedulerPort, servingCertFile, servingKeyFile }),
      logPath: join(layout.logsDir, "kube-scheduler.log"),
      cwd: layout.root,
    });
    state.scheduler = scheduler;
    await writeFile(
      layout.kubeProxyConfig,
      renderKubeProxyConfig({
        kubeconfig: layout.kubeProxyKubeconfig,
        nodeName: NODE_NAME,
        healthzPort: proxyHealthzPort,
        metricsPort: proxyMetricsPort,
      }),
    );
    log("starting kube-proxy");
    const kubeProxy = new ManagedProcess({
      name: "kube-proxy",
      command: options.binaries["kube-proxy"],
      args: kubeProxyArgs(layout.kubeProxyConfig),
      logPath: join(layout.logsDir, "kube-proxy.log"),
      cwd: layout.root,
    });
    state.kubeProxy = kubeProxy;

    const core = controlPlane.kubeConfig.makeApiClient(CoreV1Api);
    await waitUntil("the node is Ready", 120_000, async () => {
      kubelet.assertRunning();
      return nodeIsReady(core, NODE_NAME).catch(() => false);
    });
    const nodeReadyS = seconds(phase);
    log(`node ${NODE_NAME} Ready ${nodeReadyS} s after the kubelet started`);

    phase = Date.now();
    const tls = { caPem: ca.certPem };
    for (const [proc, port] of [
      [controllerManager, controllerManagerPort],
      [scheduler, schedulerPort],
    ] as const) {
      await waitUntil(`${proc.name} is healthy`, 120_000, async () => {
        proc.assertRunning();
        return (await httpsGet(`https://127.0.0.1:${port}/healthz`, tls)).status === 200;
      });
    }
    // The controller-manager's ServiceAccount controller is what lets pods without an explicit account in.
    await waitUntil("the default ServiceAccount exists", 60_000, async () => {
      await core.readNamespacedServiceAccount({ name: "default", namespace: "default" });
      return true;
    });
    await waitUntil("kube-proxy is healthy", 60_000, async () => {
      kubeProxy.assertRunning();
      const res = await fetch(`http://127.0.0.1:${proxyHealthzPort}/healthz`, { signal: AbortSignal.timeout(2_000) });
      return res.ok;
    });
    const controllersS = seconds(phase);

    phase = Date.now();
    for (const object of clusterDnsManifests(coredns.reference)) {
      await applyObject(controlPlane.kubeConfig, object);
    }
    const apps = controlPlane.kubeConfig.makeApiClient(AppsV1Api);
    await waitUntil("the cluster DNS is available", 120_000, async () => {
      const deployment = await apps.readNamespacedDeployment({ name: "coredns", namespace: "kube-system" });
      return (deployment.status?.readyReplicas ?? 0) >= 1;
    });
    const clusterDnsS = seconds(phase);

    const timings: NodeStartTimings = {
      packagesS,
      controlPlaneS,
      containerdS,
      imagesS,
      nodeReadyS,
      controllersS,
      clusterDnsS,
      totalS: seconds(startedAt),
    };
    log(`node cluster up in ${timings.totalS} s`);
    return {
      controlPlane,
      nodeName: NODE_NAME,
      layout,
      images: { pause: pause.reference, busybox: busybox.reference },
      timings,
      importImages: (images) => importImages(layout.containerdSocket, images),
      stop,
    };
  } catch (err) {
    await stop().catch((teardownErr: unknown) => {
      log(teardownErr instanceof Error ? teardownErr.message : String(teardownErr));
    });
    throw err;
  }
}
