// Starts and stops a real etcd + kube-apiserver on loopback with a throwaway PKI, for tests and the demo.
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig, RbacAuthorizationV1Api, type V1ClusterRoleBinding } from "@kubernetes/client-node";
import { DEFAULT_TESSERA_AUDIENCE } from "../../api/constants.ts";
import { apiserverArgs, apiserverUrl, etcdArgs, KUBERNETES_SERVICE_IP } from "./args.ts";
import type { BinaryPaths } from "./build.ts";
import { ControlPlaneError } from "./errors.ts";
import { httpsGet } from "./https-get.ts";
import type { ControlPlaneInfo } from "./info.ts";
import { renderKubeconfig } from "./kubeconfig.ts";
import { kubeBody } from "./plain.ts";
import { generatePki, issueCertificate, type ControlPlanePki, type KeyPairPem } from "./pki.ts";
import { freeLoopbackPorts } from "./ports.ts";
import { ManagedProcess } from "./process.ts";

export interface ControlPlaneOptions {
  readonly binaries: BinaryPaths;
  /** Extra kube-apiserver flags, appended after the defaults (a later flag wins). */
  readonly apiserverArgs?: readonly string[];
  /**
   * A structured AuthenticationConfiguration (apiserver.config.k8s.io) the apiserver loads with
   * --authentication-config, e.g. to trust Tessera as a JWT issuer. It replaces the --oidc-* flags; the apiserver
   * starts even while the issuer is unreachable and re-reads the file when it changes.
   */
  readonly authenticationConfig?: Readonly<Record<string, unknown>>;
  /**
   * /etc/resolv.conf as the apiserver alone sees it (bind-mounted in a mount namespace of its own; needs root). The
   * node tier points it at the cluster DNS, as on a control-plane host that resolves with it, so the apiserver finds
   * Tessera's issuer under its Service name. Unset: the machine's resolver.
   */
  readonly resolvConf?: string;
  /** Audiences accepted in TokenReview besides the apiserver's own; Tessera's default audience when unset. */
  readonly apiAudiences?: readonly string[];
  /**
   * Address the apiserver binds to, advertises and puts in its issuer URL; loopback by default. The node tier passes
   * its bridge address (a local address of this machine that its pods can reach too).
   */
  readonly bindAddress?: string;
  /**
   * Prepares the apiserver for kubelets (Node authorization, NodeRestriction, ServiceAccount admission since a
   * controller-manager will make default ServiceAccounts, a client certificate to call kubelets with).
   */
  readonly forNodes?: boolean;
  /**
   * `iss` of service-account tokens; the apiserver's URL by default. The node tier uses the name clusters built by
   * kubeadm use (https://kubernetes.default.svc.cluster.local), the default of Tessera's chart.
   */
  readonly serviceAccountIssuer?: string;
  /** How long to wait for /readyz (the apiserver needs up to a minute on two cores). */
  readonly readyTimeoutMs?: number;
  /** Progress lines for a person. */
  readonly log?: (line: string) => void;
  readonly now?: () => Date;
}

/** Files of the control plane's PKI, for components that join it (the node tier's kubelet and controllers). */
export interface PkiFiles {
  readonly caCert: string;
  /** The CA's private key, for the controller-manager's CSR signer; 0600 in the scratch directory. */
  readonly caKey: string;
  /** A serving certificate and key for 127.0.0.1 (the apiserver's own), reusable by other loopback servers. */
  readonly servingCert: string;
  readonly servingKey: string;
  readonly saPublic: string;
  readonly saPrivate: string;
}

export interface ControlPlane extends ControlPlaneInfo {
  readonly kubeConfig: KubeConfig;
  /** The CA, to issue certificates for components that join the control plane. Never leaves this process. */
  readonly ca: KeyPairPem;
  readonly pkiFiles: PkiFiles;
  readonly logPaths: { readonly etcd: string; readonly apiserver: string };
  /** Serializable connection info for another process. */
  info(): ControlPlaneInfo;
  /** Stops the apiserver only; etcd and every stored object stay. */
  stopApiserver(): Promise<void>;
  /** Starts the apiserver again on the same port with the same flags and waits for /readyz. */
  startApiserver(): Promise<void>;
  restartApiserver(): Promise<void>;
  /**
   * SIGSTOP the apiserver: clients' connections are accepted by the kernel and never answered, as with a wedged
   * or partitioned apiserver. resumeApiserver() sends SIGCONT; stop() resumes it first.
   */
  pauseApiserver(): void;
  resumeApiserver(): void;
  /** Stops etcd and starts it again on the same ports with the same data; the apiserver stays up meanwhile. */
  restartEtcd(): Promise<void>;
  /** Rewrites the --authentication-config file (the apiserver reloads it); only if started with one. */
  writeAuthenticationConfig(config: Readonly<Record<string, unknown>>): Promise<void>;
  /** Stops both processes and removes the scratch directory. Safe to call twice. */
  stop(): Promise<void>;
}

const AUTHN_CONFIG_FILE = "authentication-config.json";

function requireProcess(process: ManagedProcess | undefined, what: string): ManagedProcess {
  if (process === undefined) throw new ControlPlaneError("BAD_STATE", `${what} was never started`);
  return process;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

/** Polls `probe` until it returns true, failing early if `proc` dies. */
async function waitReady(
  proc: ManagedProcess,
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  for (;;) {
    if (proc.exitDescription !== undefined) {
      throw new ControlPlaneError(
        "PROCESS_EXITED",
        `${proc.name} exited (${proc.exitDescription}) before ${what}; last log lines:\n${await proc.logTail()}`,
      );
    }
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw new ControlPlaneError(
        "NOT_READY",
        `${proc.name} not ${what} after ${timeoutMs} ms (${lastError}); last log lines:\n${await proc.logTail()}`,
      );
    }
    await sleep(250);
  }
}

async function writePki(
  dir: string,
  pki: ControlPlanePki,
  kubeletClient: KeyPairPem | undefined,
): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files: Record<string, string> = {
    caCert: pki.ca.certPem,
    caKey: pki.ca.keyPem,
    servingCert: pki.serving.certPem,
    servingKey: pki.serving.keyPem,
    saPublic: pki.serviceAccount.publicKeyPem,
    saPrivate: pki.serviceAccount.privateKeyPem,
    ...(kubeletClient !== undefined ? { kubeletClientCert: kubeletClient.certPem, kubeletClientKey: kubeletClient.keyPem } : {}),
  };
  const paths: Record<string, string> = {};
  for (const [name, pem] of Object.entries(files)) {
    const path = join(dir, `${name}.pem`);
    await writeFile(path, pem, { mode: 0o600 });
    paths[name] = path;
  }
  return paths;
}

function requirePath(paths: Record<string, string>, name: string): string {
  const path = paths[name];
  if (path === undefined) throw new ControlPlaneError("BAD_STATE", `PKI file ${name} was not written`);
  return path;
}

/** Lets anyone read the apiserver's OIDC discovery and JWKS, as relying parties outside the cluster must. */
async function allowAnonymousDiscovery(kubeConfig: KubeConfig): Promise<void> {
  const rbac = kubeConfig.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createClusterRoleBinding({
    body: kubeBody<V1ClusterRoleBinding>({
      metadata: { name: "tessera-test:service-account-issuer-discovery" },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: "system:service-account-issuer-discovery",
      },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:unauthenticated" }],
    }),
  });
}

/** How often to retry when a port the kernel offered was taken by someone else before etcd or the apiserver bound it. */
const PORT_CLASH_ATTEMPTS = 3;

function isPortClash(err: unknown): boolean {
  return err instanceof ControlPlaneError && err.code === "PROCESS_EXITED" && /address already in use/i.test(err.message);
}

/**
 * The apiserver's command line: the binary itself, or, with a resolver file, the binary in a private mount namespace
 * where that file is /etc/resolv.conf. unshare and sh both exec, so the process is the apiserver (signals reach it).
 */
function apiserverCommand(
  binary: string,
  args: readonly string[],
  resolvConfFile: string | undefined,
): { command: string; args: string[] } {
  if (resolvConfFile === undefined) return { command: binary, args: [...args] };
  return {
    command: "unshare",
    args: [
      "--mount",
      "--propagation",
      "private",
      "--",
      "sh",
      "-c",
      'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"',
      "sh",
      resolvConfFile,
      binary,
      ...args,
    ],
  };
}

/**
 * Starts etcd and kube-apiserver on free loopback ports and waits until the apiserver is ready. Retries on fresh
 * ports when another process grabbed one in the moment between choosing it and binding it.
 */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startControlPlaneOnce(options);
    } catch (err) {
      if (attempt >= PORT_CLASH_ATTEMPTS || !isPortClash(err)) throw err;
      options.log?.("a chosen port was taken meanwhile; retrying on fresh ports");
    }
  }
}

async function startControlPlaneOnce(options: ControlPlaneOptions): Promise<ControlPlane> {
  const log = options.log ?? (() => undefined);
  const now = options.now ?? (() => new Date());
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const tempDir = await mkdtemp(join(tmpdir(), "tessera-controlplane-"));
  const processes: { etcd?: ManagedProcess; apiserver?: ManagedProcess } = {};
  let stopped = false;

  // Last resort when the host process ends without calling stop(): no orphaned servers, no leftover keys.
  const onExit = (): void => {
    processes.apiserver?.killNow();
    processes.etcd?.killNow();
    rmSync(tempDir, { recursive: true, force: true });
  };
  process.on("exit", onExit);

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await processes.apiserver?.stop();
    await processes.etcd?.stop();
    process.off("exit", onExit);
    await rm(tempDir, { recursive: true, force: true });
  };

  try {
    const [etcdClientPort, etcdPeerPort, apiPort] = await freeLoopbackPorts(3);
    if (etcdClientPort === undefined || etcdPeerPort === undefined || apiPort === undefined) {
      throw new ControlPlaneError("NO_FREE_PORT", "could not reserve three loopback ports");
    }
    const bindAddress = options.bindAddress ?? "127.0.0.1";
    const url = apiserverUrl(apiPort, bindAddress);
    const forNodes = options.forNodes === true;
    // Pods dial the apiserver at the bound address or through the `kubernetes` Service's ClusterIP.
    const servingIps = bindAddress === "127.0.0.1" ? [] : [bindAddress];
    const pki = await generatePki(now(), 7, forNodes ? [...servingIps, KUBERNETES_SERVICE_IP] : servingIps);
    // The apiserver's identity towards kubelets (logs, exec, port-forward); the Node authorizer is not involved.
    const kubeletClient = forNodes
      ? await issueCertificate(pki.ca, { subject: "CN=kube-apiserver-kubelet-client, O=system:masters", usage: "client" }, now())
      : undefined;
    const pkiPaths = await writePki(join(tempDir, "pki"), pki, kubeletClient);
    const logPaths = { etcd: join(tempDir, "etcd.log"), apiserver: join(tempDir, "kube-apiserver.log") };

    let authenticationConfigFile: string | undefined;
    if (options.authenticationConfig !== undefined) {
      authenticationConfigFile = join(tempDir, AUTHN_CONFIG_FILE);
      await writeFile(authenticationConfigFile, JSON.stringify(options.authenticationConfig, null, 2));
    }

    let resolvConfFile: string | undefined;
    if (options.resolvConf !== undefined) {
      resolvConfFile = join(tempDir, "apiserver-resolv.conf");
      await writeFile(resolvConfFile, options.resolvConf);
    }

    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const startEtcd = async (): Promise<void> => {
      log(`starting etcd on ${etcdUrl}`);
      const etcd = new ManagedProcess({
        name: "etcd",
        command: options.binaries.etcd,
        args: etcdArgs({ dataDir: join(tempDir, "etcd-data"), clientPort: etcdClientPort, peerPort: etcdPeerPort }),
        logPath: logPaths.etcd,
        cwd: tempDir,
      });
      processes.etcd = etcd;
      await waitReady(
        etcd,
        "healthy",
        async () => {
          const res = await fetch(`${etcdUrl}/health`, { signal: AbortSignal.timeout(2_000) });
          return res.ok && ((await res.json()) as { health?: unknown }).health === "true";
        },
        30_000,
      );
    };
    await startEtcd();

    const serviceAccountIssuer = options.serviceAccountIssuer ?? url;
    const apiAudiences = [serviceAccountIssuer, ...(options.apiAudiences ?? [DEFAULT_TESSERA_AUDIENCE])];
    const args = apiserverArgs({
      etcdUrl,
      securePort: apiPort,
      bindAddress,
      serviceAccountIssuer,
      ...(forNodes
        ? {
            nodes: {
              kubeletClientCertFile: requirePath(pkiPaths, "kubeletClientCert"),
              kubeletClientKeyFile: requirePath(pkiPaths, "kubeletClientKey"),
              kubeletCaFile: requirePath(pkiPaths, "caCert"),
            },
          }
        : {}),
      certDir: join(tempDir, "apiserver-certs"),
      servingCertFile: requirePath(pkiPaths, "servingCert"),
      servingKeyFile: requirePath(pkiPaths, "servingKey"),
      clientCaFile: requirePath(pkiPaths, "caCert"),
      saPublicKeyFile: requirePath(pkiPaths, "saPublic"),
      saPrivateKeyFile: requirePath(pkiPaths, "saPrivate"),
      extraAudiences: apiAudiences.slice(1),
      ...(authenticationConfigFile !== undefined ? { authenticationConfigFile } : {}),
      extraArgs: options.apiserverArgs ?? [],
    });
    const adminTls = { caPem: pki.ca.certPem, certPem: pki.admin.certPem, keyPem: pki.admin.keyPem };

    const startApiserver = async (): Promise<void> => {
      if (stopped) throw new ControlPlaneError("BAD_STATE", "the control plane was stopped");
      if (processes.apiserver !== undefined && processes.apiserver.exitDescription === undefined) {
        throw new ControlPlaneError("BAD_STATE", "the apiserver is already running");
      }
      log(`starting kube-apiserver on ${url}`);
      const apiserver = new ManagedProcess({
        name: "kube-apiserver",
        ...apiserverCommand(options.binaries["kube-apiserver"], args, resolvConfFile),
        logPath: logPaths.apiserver,
        cwd: tempDir,
      });
      processes.apiserver = apiserver;
      await waitReady(
        apiserver,
        "ready",
        async () => (await httpsGet(`${url}/readyz`, adminTls)).status === 200,
        readyTimeoutMs,
      );
    };
    const stopApiserver = async (): Promise<void> => {
      await processes.apiserver?.stop();
    };

    const startedAt = Date.now();
    await startApiserver();
    log(`kube-apiserver ready in ${Math.round((Date.now() - startedAt) / 100) / 10} s`);

    const kubeconfigPath = join(tempDir, "kubeconfig");
    await writeFile(
      kubeconfigPath,
      renderKubeconfig({
        server: url,
        caPem: pki.ca.certPem,
        clientCertPem: pki.admin.certPem,
        clientKeyPem: pki.admin.keyPem,
        name: "tessera-local",
      }),
      { mode: 0o600 },
    );
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    await allowAnonymousDiscovery(kubeConfig);

    const info: ControlPlaneInfo = {
      kubeconfigPath,
      apiserverUrl: url,
      caPem: pki.ca.certPem,
      serviceAccountIssuer,
      apiAudiences,
      tempDir,
      binaries: options.binaries,
    };
    const pkiFiles: PkiFiles = {
      caCert: requirePath(pkiPaths, "caCert"),
      caKey: requirePath(pkiPaths, "caKey"),
      servingCert: requirePath(pkiPaths, "servingCert"),
      servingKey: requirePath(pkiPaths, "servingKey"),
      saPublic: requirePath(pkiPaths, "saPublic"),
      saPrivate: requirePath(pkiPaths, "saPrivate"),
    };
    return {
      ...info,
      kubeConfig,
      ca: pki.ca,
      pkiFiles,
      logPaths,
      info: () => info,
      stopApiserver,
      startApiserver,
      restartApiserver: async () => {
        await stopApiserver();
        await startApiserver();
      },
      pauseApiserver: () => {
        requireProcess(processes.apiserver, "the apiserver").pause();
      },
      resumeApiserver: () => {
        requireProcess(processes.apiserver, "the apiserver").resume();
      },
      restartEtcd: async () => {
        if (stopped) throw new ControlPlaneError("BAD_STATE", "the control plane was stopped");
        await processes.etcd?.stop();
        await startEtcd();
      },
      writeAuthenticationConfig: async (config) => {
        if (authenticationConfigFile === undefined) {
          throw new ControlPlaneError("BAD_STATE", "the apiserver was started without an authentication config");
        }
        // Write then rename: the apiserver must never read a half-written file.
        const staging = `${authenticationConfigFile}.tmp`;
        await writeFile(staging, JSON.stringify(config, null, 2));
        await rename(staging, authenticationConfigFile);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
