// Command lines of kube-controller-manager and kube-scheduler for the node tier (pure): loopback only, one
// instance each (no leader election), the controller-manager signing tokens and CSRs with the control plane's keys.

export interface ControllerManagerArgsParams {
  readonly kubeconfig: string;
  readonly securePort: number;
  readonly servingCertFile: string;
  readonly servingKeyFile: string;
  readonly caCertFile: string;
  readonly caKeyFile: string;
  readonly saPrivateKeyFile: string;
}

export function controllerManagerArgs(p: ControllerManagerArgsParams): string[] {
  return [
    `--kubeconfig=${p.kubeconfig}`,
    `--authentication-kubeconfig=${p.kubeconfig}`,
    `--authorization-kubeconfig=${p.kubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${p.securePort}`,
    `--tls-cert-file=${p.servingCertFile}`,
    `--tls-private-key-file=${p.servingKeyFile}`,
    // Each controller acts as its own ServiceAccount, as kubeadm sets it up, so RBAC sees who did what.
    "--use-service-account-credentials=true",
    `--service-account-private-key-file=${p.saPrivateKeyFile}`,
    // Published in every namespace's kube-root-ca.crt ConfigMap, which projected token volumes mount.
    `--root-ca-file=${p.caCertFile}`,
    `--cluster-signing-cert-file=${p.caCertFile}`,
    `--cluster-signing-key-file=${p.caKeyFile}`,
    "--leader-elect=false",
    "--profiling=false",
    "--v=1",
  ];
}

export interface SchedulerArgsParams {
  readonly kubeconfig: string;
  readonly securePort: number;
  readonly servingCertFile: string;
  readonly servingKeyFile: string;
}

export function schedulerArgs(p: SchedulerArgsParams): string[] {
  return [
    `--kubeconfig=${p.kubeconfig}`,
    `--authentication-kubeconfig=${p.kubeconfig}`,
    `--authorization-kubeconfig=${p.kubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${p.securePort}`,
    `--tls-cert-file=${p.servingCertFile}`,
    `--tls-private-key-file=${p.servingKeyFile}`,
    "--leader-elect=false",
    "--profiling=false",
    "--v=1",
  ];
}
