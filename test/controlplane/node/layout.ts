// Where the node tier keeps everything (one scratch directory per node) and the addresses of its private network.
import { join } from "node:path";

/** The node's private network: a bridge with no uplink, its address doubling as the node's and the apiserver's. */
export const NODE_NETWORK = Object.freeze({
  /** Bridge the CNI plugin attaches pods to; nothing else is enslaved to it, so traffic stays on this machine. */
  bridge: "tessera0",
  podCidr: "10.244.0.0/24",
  /** The bridge's own address: the node IP, the apiserver's bind address, the pods' gateway to Services. */
  gateway: "10.244.0.1",
  prefixLength: 24,
  /** Name of the CNI network (and of the host-local IPAM's state directory). */
  cniNetwork: "tessera-pods",
});

export const NODE_NAME = "tessera-node";

/** Every path of one node, under its scratch directory. */
export interface NodeLayout {
  readonly root: string;
  readonly containerdConfig: string;
  readonly containerdRoot: string;
  readonly containerdState: string;
  readonly containerdSocket: string;
  readonly runcRoot: string;
  readonly cniConfDir: string;
  readonly cniIpamDir: string;
  readonly kubeletConfig: string;
  readonly kubeletKubeconfig: string;
  readonly kubeletRoot: string;
  readonly kubeletCertDir: string;
  readonly controllerManagerKubeconfig: string;
  readonly schedulerKubeconfig: string;
  readonly kubeProxyKubeconfig: string;
  readonly kubeProxyConfig: string;
  readonly imagesDir: string;
  readonly logsDir: string;
}

export function nodeLayout(root: string): NodeLayout {
  return {
    root,
    containerdConfig: join(root, "containerd", "config.toml"),
    containerdRoot: join(root, "containerd", "root"),
    containerdState: join(root, "containerd", "state"),
    // Short on purpose: a unix socket path must fit in 108 bytes.
    containerdSocket: join(root, "containerd", "c.sock"),
    runcRoot: join(root, "runc"),
    cniConfDir: join(root, "cni", "net.d"),
    cniIpamDir: join(root, "cni", "ipam"),
    kubeletConfig: join(root, "kubelet", "config.yaml"),
    kubeletKubeconfig: join(root, "kubelet", "kubeconfig"),
    kubeletRoot: join(root, "kubelet", "root"),
    kubeletCertDir: join(root, "kubelet", "pki"),
    controllerManagerKubeconfig: join(root, "kube-controller-manager.kubeconfig"),
    schedulerKubeconfig: join(root, "kube-scheduler.kubeconfig"),
    kubeProxyKubeconfig: join(root, "kube-proxy.kubeconfig"),
    kubeProxyConfig: join(root, "kube-proxy.yaml"),
    imagesDir: join(root, "images"),
    logsDir: join(root, "logs"),
  };
}
