// The kubelet's configuration file and flags for the node tier (pure): the cgroupfs driver, containerd's socket in
// the node's scratch directory, its API on the bridge address only, and webhook authentication and authorization
// against the apiserver as in a cluster built by kubeadm.
import { stringify } from "yaml";
import type { NodeLayout } from "./layout.ts";

export interface KubeletConfigParams {
  readonly layout: NodeLayout;
  readonly nodeName: string;
  readonly nodeIp: string;
  /** Port of the kubelet's API (logs, exec, metrics) on the node IP. */
  readonly port: number;
  /** Port of /healthz on loopback. */
  readonly healthzPort: number;
  readonly clientCaFile: string;
  readonly tlsCertFile: string;
  readonly tlsPrivateKeyFile: string;
  /** ClusterIP of the cluster DNS Service, when one runs. */
  readonly clusterDns?: string;
}

export function renderKubeletConfig(p: KubeletConfigParams): string {
  return stringify({
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    // The kubelet's API listens on the node's bridge address, never on every interface.
    address: p.nodeIp,
    port: p.port,
    readOnlyPort: 0,
    healthzBindAddress: "127.0.0.1",
    healthzPort: p.healthzPort,
    tlsCertFile: p.tlsCertFile,
    tlsPrivateKeyFile: p.tlsPrivateKeyFile,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: p.clientCaFile },
    },
    authorization: { mode: "Webhook" },
    containerRuntimeEndpoint: `unix://${p.layout.containerdSocket}`,
    // containerd 1.6 cannot tell the kubelet its cgroup driver (no RuntimeConfig call), and there is no systemd.
    cgroupDriver: "cgroupfs",
    failCgroupV1: false,
    failSwapOn: false,
    // The kubelet must not program iptables chains of its own, nor refuse to start over kernel defaults it would
    // change (the tier records those sysctls and restores them on teardown).
    makeIPTablesUtilChains: false,
    protectKernelDefaults: false,
    // The machine's disk is small and shared: evict only when it is truly full, never during a test run.
    evictionHard: {
      "memory.available": "50Mi",
      "nodefs.available": "1%",
      "nodefs.inodesFree": "1%",
      "imagefs.available": "1%",
    },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    // Pods get the cluster DNS when one runs, and never the host's resolvers (they would be outside the machine).
    resolvConf: "",
    clusterDomain: "cluster.local",
    ...(p.clusterDns !== undefined ? { clusterDNS: [p.clusterDns] } : {}),
    maxPods: 40,
    serializeImagePulls: false,
    staticPodPath: "",
    registerNode: true,
  });
}

export interface KubeletArgsParams {
  readonly layout: NodeLayout;
  readonly nodeName: string;
  readonly nodeIp: string;
}

export function kubeletArgs(p: KubeletArgsParams): string[] {
  return [
    `--config=${p.layout.kubeletConfig}`,
    `--kubeconfig=${p.layout.kubeletKubeconfig}`,
    `--root-dir=${p.layout.kubeletRoot}`,
    `--cert-dir=${p.layout.kubeletCertDir}`,
    `--hostname-override=${p.nodeName}`,
    // The host name resolves to 127.0.0.1, which the kubelet refuses as a node address.
    `--node-ip=${p.nodeIp}`,
    "--v=1",
  ];
}
