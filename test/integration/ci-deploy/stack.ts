// A private control plane that trusts Tessera as a JWT issuer, with the real controller process (issuer, webhooks, reconcilers) on it.
import { spawn, type ChildProcess } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { V1Namespace, V1Secret } from "@kubernetes/client-node";
import { parse } from "yaml";
import {
  DEFAULT_TESSERA_AUDIENCE,
  ENV_ADMISSION_PORT,
  ENV_BIND_ADDRESS,
  ENV_CLUSTER_ENVIRONMENT,
  ENV_CLUSTER_NAME,
  ENV_CONTROLLER_NAMESPACE,
  ENV_CONTROLLER_POD_NAME,
  ENV_EXPLAIN_CALLERS,
  ENV_HEALTH_PORT,
  ENV_INTROSPECT_CALLERS,
  ENV_ISSUER_PORT,
  ENV_ISSUER_PUBLIC_URL,
  ENV_KUBECONFIG,
  ENV_LOG_LEVEL,
  ENV_SERVICE_ACCOUNT_ISSUER,
  ENV_SERVING_DNS_NAMES,
  ENV_SIDECAR_IMAGE,
  ENV_TLS_MODE,
  SECRET_WEBHOOK_TLS,
} from "../../../api/constants.ts";
import { renderWebhookConfigurations } from "../../../controller/src/admission/webhook-config.ts";
import { startControlPlane, type ControlPlane } from "../../controlplane/harness.ts";
import { applyObject } from "../../controlplane/manifests.ts";
import { generatePki } from "../../controlplane/pki.ts";
import { freeLoopbackPorts } from "../../controlplane/ports.ts";
import {
  applyCrds,
  controlPlaneInfo,
  createPod,
  createServiceAccount,
  EXAMPLES_DIR,
  kubeBody,
  kubeClients,
  mintProjectedToken,
  REPO_ROOT,
  waitFor,
  type KubeClients,
} from "../support/index.ts";

/** Tessera's own namespace on the private control plane. */
export const TESSERA_NAMESPACE = "tessera-system";
/** The service account allowed to call introspection and explain. */
export const AUDITOR = "auditor";
export const AUTHENTICATION_CONFIG_PATH = join(EXAMPLES_DIR, "ci-deploy", "apiserver", "authentication-config.yaml");

export interface CiDeployStack {
  readonly controlPlane: ControlPlane;
  readonly clients: KubeClients;
  readonly issuerUrl: string;
  /** CA of the issuer's serving certificate (what the apiserver and the sidecar trust). */
  readonly issuerCaPem: string;
  /** A projected token of the allowlisted auditor, for the audit endpoints. */
  readonly auditorToken: string;
  /** Everything the controller process wrote to stdout (JSON log lines, decision records among them). */
  controllerOutput(): string;
  stop(): Promise<void>;
}

/** The example's AuthenticationConfiguration with the issuer URL and CA of this run filled in. */
export async function authenticationConfigFor(issuerUrl: string, caPem: string): Promise<Record<string, unknown>> {
  const config = parse(await readFile(AUTHENTICATION_CONFIG_PATH, "utf8")) as { jwt: { issuer: Record<string, unknown> }[] };
  const [jwt] = config.jwt;
  if (jwt === undefined) throw new Error(`${AUTHENTICATION_CONFIG_PATH} has no jwt authenticator`);
  jwt.issuer["url"] = issuerUrl;
  jwt.issuer["certificateAuthority"] = caPem;
  return config;
}

async function healthStatus(port: number): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
  } catch {
    return 0;
  }
}

/**
 * Starts etcd + kube-apiserver trusting the issuer that is about to listen on a chosen port, then the controller
 * process. The issuer's serving certificate is made up front and stored in tessera-webhook-tls the way cert-manager
 * would (TLS mode cert-manager), so its CA can go into the apiserver's configuration before either starts.
 */
export async function startCiDeployStack(scratchDir: string): Promise<CiDeployStack> {
  const [issuerPort, admissionPort, healthPort] = await freeLoopbackPorts(3);
  if (issuerPort === undefined || admissionPort === undefined || healthPort === undefined) throw new Error("no free ports");
  const issuerUrl = `https://127.0.0.1:${issuerPort}`;
  const issuerPki = await generatePki(new Date());
  const controlPlane = await startControlPlane({
    binaries: controlPlaneInfo().binaries,
    authenticationConfig: await authenticationConfigFor(issuerUrl, issuerPki.ca.certPem),
  });
  let child: ChildProcess | undefined;
  try {
    const clients = kubeClients(controlPlane.kubeConfig);
    await applyCrds(clients);
    await clients.core.createNamespace({ body: kubeBody<V1Namespace>({ metadata: { name: TESSERA_NAMESPACE } }) });
    await clients.core.createNamespacedSecret({
      namespace: TESSERA_NAMESPACE,
      body: kubeBody<V1Secret>({
        metadata: { name: SECRET_WEBHOOK_TLS },
        type: "kubernetes.io/tls",
        stringData: { "tls.crt": issuerPki.serving.certPem, "tls.key": issuerPki.serving.keyPem, "ca.crt": issuerPki.ca.certPem },
      }),
    });
    await createServiceAccount(TESSERA_NAMESPACE, AUDITOR, clients);
    const auditorPod = await createPod(TESSERA_NAMESPACE, { name: `${AUDITOR}-0`, serviceAccountName: AUDITOR }, clients);
    const auditorToken = await mintProjectedToken(
      { namespace: TESSERA_NAMESPACE, serviceAccount: AUDITOR, pod: auditorPod, audience: DEFAULT_TESSERA_AUDIENCE },
      clients,
    );
    const webhooks = renderWebhookConfigurations({
      target: { kind: "url", baseUrl: `https://127.0.0.1:${admissionPort}` },
      tesseraNamespace: TESSERA_NAMESPACE,
      caBundlePem: issuerPki.ca.certPem,
    });
    await applyObject(controlPlane.kubeConfig, webhooks.mutating);
    await applyObject(controlPlane.kubeConfig, webhooks.validating);

    const kubeconfigPath = join(scratchDir, "controller.kubeconfig");
    await writeFile(kubeconfigPath, await readFile(controlPlane.kubeconfigPath, "utf8"), { mode: 0o600 });
    let output = "";
    child = spawn(process.execPath, ["--import", "tsx", "controller/src/main.ts"], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env["PATH"] ?? "",
        [ENV_KUBECONFIG]: kubeconfigPath,
        [ENV_CONTROLLER_NAMESPACE]: TESSERA_NAMESPACE,
        [ENV_CONTROLLER_POD_NAME]: "controller-0",
        [ENV_CLUSTER_NAME]: "ci-deploy-test",
        [ENV_CLUSTER_ENVIRONMENT]: "staging",
        [ENV_ISSUER_PUBLIC_URL]: issuerUrl,
        [ENV_ISSUER_PORT]: String(issuerPort),
        [ENV_ADMISSION_PORT]: String(admissionPort),
        [ENV_HEALTH_PORT]: String(healthPort),
        [ENV_BIND_ADDRESS]: "127.0.0.1",
        [ENV_TLS_MODE]: "cert-manager",
        [ENV_SERVING_DNS_NAMES]: "localhost",
        [ENV_SIDECAR_IMAGE]: "tessera/sidecar:test",
        [ENV_SERVICE_ACCOUNT_ISSUER]: controlPlane.serviceAccountIssuer,
        [ENV_INTROSPECT_CALLERS]: `${TESSERA_NAMESPACE}/${AUDITOR}`,
        [ENV_EXPLAIN_CALLERS]: `${TESSERA_NAMESPACE}/${AUDITOR}`,
        [ENV_LOG_LEVEL]: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (c: Buffer) => (output += c.toString("utf8")));
    child.stderr?.on("data", (c: Buffer) => (output += c.toString("utf8")));
    const running = child;
    await waitFor(async () => (await healthStatus(healthPort)) === 200, {
      timeoutMs: 90_000,
      description: "the controller's /readyz to answer 200",
    });
    return {
      controlPlane,
      clients,
      issuerUrl,
      issuerCaPem: issuerPki.ca.certPem,
      auditorToken,
      controllerOutput: () => output,
      async stop() {
        const exited = new Promise<void>((resolve) => {
          running.once("exit", () => {
            resolve();
          });
        });
        running.kill("SIGTERM");
        await exited;
        await controlPlane.stop();
      },
    };
  } catch (err) {
    child?.kill("SIGKILL");
    await controlPlane.stop();
    throw err;
  }
}
