// Command lines of etcd and kube-apiserver for a single-node, loopback-only control plane (pure: no I/O).

/** ClusterIPs of Services; the first address is the `kubernetes` Service's. */
export const SERVICE_CIDR = "10.0.0.0/24";
/** ClusterIP of the `kubernetes` Service in the default namespace: the apiserver as pods see it. */
export const KUBERNETES_SERVICE_IP = "10.0.0.1";

export interface EtcdArgsParams {
  readonly dataDir: string;
  readonly clientPort: number;
  readonly peerPort: number;
}

export function etcdArgs(p: EtcdArgsParams): string[] {
  const client = `http://127.0.0.1:${p.clientPort}`;
  const peer = `http://127.0.0.1:${p.peerPort}`;
  return [
    "--name=tessera-test",
    `--data-dir=${p.dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=tessera-test=${peer}`,
    // Throwaway data: durability buys nothing and fsync makes every write slow on CI disks.
    "--unsafe-no-fsync",
    "--log-level=warn",
  ];
}

export interface ApiserverArgsParams {
  readonly etcdUrl: string;
  readonly securePort: number;
  readonly certDir: string;
  readonly servingCertFile: string;
  readonly servingKeyFile: string;
  readonly clientCaFile: string;
  readonly saPublicKeyFile: string;
  readonly saPrivateKeyFile: string;
  /** Audiences the apiserver accepts service-account tokens for, besides its own issuer URL. */
  readonly extraAudiences: readonly string[];
  /** Address to bind and advertise; loopback unless the node tier asks for its bridge address (pods dial it). */
  readonly bindAddress?: string;
  /** `iss` of service-account tokens; the apiserver's URL unless a cluster-style name is wanted. */
  readonly serviceAccountIssuer?: string;
  /** Set when kubelets will register: the apiserver's client certificate for them and the CA of their serving certs. */
  readonly nodes?: NodeApiserverParams;
  /** --authentication-config file, when the apiserver should also trust external JWT issuers. */
  readonly authenticationConfigFile?: string;
  /** Appended last, so a caller can override any default flag. */
  readonly extraArgs: readonly string[];
}

export interface NodeApiserverParams {
  readonly kubeletClientCertFile: string;
  readonly kubeletClientKeyFile: string;
  /** CA that signed the kubelets' serving certificates. */
  readonly kubeletCaFile: string;
}

export function apiserverUrl(port: number, host = "127.0.0.1"): string {
  return `https://${host}:${port}`;
}

/** Flags of an apiserver that kubelets register with, as in a cluster built by kubeadm. */
function nodeArgs(nodes: NodeApiserverParams): string[] {
  return [
    // The Node authorizer and NodeRestriction limit each kubelet to its own Node and the pods bound to it.
    "--authorization-mode=Node,RBAC",
    "--enable-admission-plugins=NodeRestriction",
    `--kubelet-client-certificate=${nodes.kubeletClientCertFile}`,
    `--kubelet-client-key=${nodes.kubeletClientKeyFile}`,
    `--kubelet-certificate-authority=${nodes.kubeletCaFile}`,
    "--kubelet-preferred-address-types=InternalIP",
    // Webhook calls go to the Service's endpoints (pod IPs on the node's bridge), not through a ClusterIP.
    "--enable-aggregator-routing=true",
  ];
}

export function apiserverArgs(p: ApiserverArgsParams): string[] {
  const host = p.bindAddress ?? "127.0.0.1";
  const url = apiserverUrl(p.securePort, host);
  const issuer = p.serviceAccountIssuer ?? url;
  const args = [
    `--etcd-servers=${p.etcdUrl}`,
    `--bind-address=${host}`,
    // Hosts without a default route have no address to advertise; the bound address is what clients dial anyway.
    `--advertise-address=${host}`,
    `--secure-port=${p.securePort}`,
    `--cert-dir=${p.certDir}`,
    `--tls-cert-file=${p.servingCertFile}`,
    `--tls-private-key-file=${p.servingKeyFile}`,
    `--client-ca-file=${p.clientCaFile}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    "--allow-privileged=true",
    `--service-account-issuer=${issuer}`,
    // The default JWKS URI advertises an in-cluster address that does not exist here.
    `--service-account-jwks-uri=${url}/openid/v1/jwks`,
    `--service-account-key-file=${p.saPublicKeyFile}`,
    `--service-account-signing-key-file=${p.saPrivateKeyFile}`,
    `--api-audiences=${[issuer, ...p.extraAudiences].join(",")}`,
    "--profiling=false",
  ];
  if (p.nodes === undefined) {
    args.push(
      "--authorization-mode=RBAC",
      // No controller-manager creates default ServiceAccounts, so the admission plugin would reject every pod.
      "--disable-admission-plugins=ServiceAccount",
    );
  } else {
    args.push(...nodeArgs(p.nodes));
  }
  if (p.authenticationConfigFile !== undefined) args.push(`--authentication-config=${p.authenticationConfigFile}`);
  return [...args, ...p.extraArgs];
}
