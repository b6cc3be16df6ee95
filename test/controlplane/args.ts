// Command lines of etcd and kube-apiserver for a single-node, loopback-only control plane (pure: no I/O).

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
  /** --authentication-config file, when the apiserver should also trust external JWT issuers. */
  readonly authenticationConfigFile?: string;
  /** Appended last, so a caller can override any default flag. */
  readonly extraArgs: readonly string[];
}

export function apiserverUrl(port: number): string {
  return `https://127.0.0.1:${port}`;
}

export function apiserverArgs(p: ApiserverArgsParams): string[] {
  const url = apiserverUrl(p.securePort);
  const args = [
    `--etcd-servers=${p.etcdUrl}`,
    "--bind-address=127.0.0.1",
    // Hosts without a default route have no address to advertise; loopback is what the tests dial anyway.
    "--advertise-address=127.0.0.1",
    `--secure-port=${p.securePort}`,
    `--cert-dir=${p.certDir}`,
    `--tls-cert-file=${p.servingCertFile}`,
    `--tls-private-key-file=${p.servingKeyFile}`,
    `--client-ca-file=${p.clientCaFile}`,
    "--authorization-mode=RBAC",
    "--service-cluster-ip-range=10.0.0.0/24",
    "--allow-privileged=true",
    // No controller-manager creates default ServiceAccounts, so the admission plugin would reject every pod.
    "--disable-admission-plugins=ServiceAccount",
    `--service-account-issuer=${url}`,
    // The default JWKS URI advertises an in-cluster address that does not exist here.
    `--service-account-jwks-uri=${url}/openid/v1/jwks`,
    `--service-account-key-file=${p.saPublicKeyFile}`,
    `--service-account-signing-key-file=${p.saPrivateKeyFile}`,
    `--api-audiences=${[url, ...p.extraAudiences].join(",")}`,
    "--profiling=false",
  ];
  if (p.authenticationConfigFile !== undefined) args.push(`--authentication-config=${p.authenticationConfigFile}`);
  return [...args, ...p.extraArgs];
}
