// The Tessera controller (controller/src/main.ts, unchanged) run as a child process for the demo, and its decision records.
import { KubeConfig } from "@kubernetes/client-node";
import { DECISION_LOG_MESSAGE } from "../../controller/src/issuer/record/decision-log.ts";
import { kubeClientFromConfig } from "../../controller/src/kube/kube-http.ts";
import { controllerCommand, freeControllerPorts } from "../../test/integration/support/controller-launcher.ts";
import { startProgram, type Program } from "./program.ts";
import { DemoStepError } from "./runner.ts";
import { waitUntil } from "./wait.ts";

/** The controller's identity for leader election; fixed, so a rerun takes over the lease of a run that died. */
export const DEMO_CONTROLLER_POD = "tessera-demo-controller";
/** The image the webhook writes into pods; never pulled, since the demo runs the sidecar from source. */
export const DEMO_SIDECAR_IMAGE = "tessera/sidecar:dev";

export interface DemoController {
  readonly namespace: string;
  readonly issuerUrl: string;
  readonly admissionUrl: string;
  /** The health listener's /readyz. */
  readonly readyzUrl: string;
  readonly serviceAccountIssuer: string;
  readonly program: Program;
  /** Decision records logged so far. */
  decisions(): Record<string, unknown>[];
  /** Waits for the decision record with this id (a token's jti, or a denial's decision id). */
  decision(id: string): Promise<Record<string, unknown>>;
}

/** `iss` of the cluster's service-account tokens, from the apiserver's own discovery document. */
async function discoverServiceAccountIssuer(kubeConfig: KubeConfig): Promise<string> {
  const response = await kubeClientFromConfig(kubeConfig).request("GET", "/.well-known/openid-configuration");
  const issuer = (response.body as { issuer?: unknown } | undefined)?.issuer;
  if (response.status !== 200 || typeof issuer !== "string") {
    throw new DemoStepError(`the apiserver did not say who issues its service-account tokens (GET /.well-known/openid-configuration: HTTP ${String(response.status)})`);
  }
  return issuer;
}

function decisionLines(program: Program): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of program.lines()) {
    if (line.stream !== "stdout" || !line.text.includes(DECISION_LOG_MESSAGE)) continue;
    try {
      const record = JSON.parse(line.text) as Record<string, unknown>;
      if (record["msg"] === DECISION_LOG_MESSAGE) out.push(record);
    } catch {
      // not a JSON line
    }
  }
  return out;
}

export interface ControllerOptions {
  readonly kubeConfig: KubeConfig;
  readonly kubeconfigPath: string;
  readonly repoRoot: string;
  readonly namespace: string;
  /** "namespace/name" of the service account allowed to call explain. */
  readonly explainCaller: string;
  /** Runs once the addresses are known and before the process starts (the webhooks are registered there). */
  readonly beforeStart: (urls: { readonly admissionUrl: string; readonly issuerUrl: string }) => Promise<void>;
}

/** Starts the controller process; resolves at once (see waitControllerReady). */
export async function startDemoController(options: ControllerOptions): Promise<DemoController> {
  const serviceAccountIssuer = await discoverServiceAccountIssuer(options.kubeConfig);
  const ports = await freeControllerPorts();
  // localhost, not 127.0.0.1: the self-managed serving certificate carries the configured DNS names, and both the
  // apiserver (calling the webhook) and the sidecar (calling the issuer) must find the name they dialled in it.
  const command = controllerCommand({
    kubeconfigPath: options.kubeconfigPath,
    namespace: options.namespace,
    podName: DEMO_CONTROLLER_POD,
    ports,
    issuerHost: "localhost",
    clusterName: "demo",
    environment: "dev",
    sidecarImage: DEMO_SIDECAR_IMAGE,
    serviceAccountIssuer,
    callers: { explain: options.explainCaller },
    logLevel: "info",
  });
  const issuerUrl = command.issuerUrl;
  const admissionUrl = `https://localhost:${String(ports.admission)}`;
  await options.beforeStart({ admissionUrl, issuerUrl });
  const program = startProgram({ name: "controller", ...command });
  return {
    namespace: options.namespace,
    issuerUrl,
    admissionUrl,
    readyzUrl: command.readyzUrl,
    serviceAccountIssuer,
    program,
    decisions: () => decisionLines(program),
    decision: (id) =>
      waitUntil(() => Promise.resolve(decisionLines(program).find((r) => r["decisionId"] === id)), {
        what: `the controller's decision record ${id}`,
        timeoutMs: 5_000,
        intervalMs: 50,
      }),
  };
}

/** Waits for /readyz: caches synced, signing key loaded, issuer and webhook listening. */
export async function waitControllerReady(controller: DemoController, timeoutMs: number): Promise<void> {
  await waitUntil(async () => ((await fetch(controller.readyzUrl)).status === 200 ? true : undefined), {
    what: "the controller to become ready",
    timeoutMs,
    intervalMs: 250,
    explain: () => {
      const exit = controller.program.exitDescription();
      return exit === undefined ? undefined : `the controller exited (${exit}):\n${controller.program.tail()}`;
    },
  });
}
