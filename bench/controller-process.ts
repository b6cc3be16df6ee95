// Runs the real controller (controller/src/main.ts) as its own process, pinned to the server CPU, and waits until it is ready.
import { join } from "node:path";
import { ENV_POD_EXCHANGE_BURST, ENV_POD_EXCHANGES_PER_SECOND } from "../api/constants.ts";
import { readWebhookSecret } from "../controller/src/tls/serving-material.ts";
import { kubeClientFromConfig } from "../controller/src/kube/kube-http.ts";
import { controllerCommand, freeControllerPorts } from "../test/integration/support/controller-launcher.ts";
import { freshNamespace } from "../test/integration/support/index.ts";
import { BenchChild, waitUntil } from "./child.ts";
import type { BenchContext } from "./context.ts";

export interface ControllerProcess {
  readonly child: BenchChild;
  readonly namespace: string;
  /** https://localhost:PORT: the serving certificate names localhost, not 127.0.0.1. */
  readonly issuerUrl: string;
  readonly issuerPort: number;
  readonly admissionPort: number;
  readonly healthPort: number;
  /** CA of the serving certificate (the webhook Secret's bundle). */
  readonly caPem: string;
  readonly tls: { readonly cert: string; readonly key: string };
  /** ms from spawn to /readyz 200. */
  readonly readyAfterMs: number;
}

export interface ControllerOptions {
  readonly name: string;
  readonly subjectVerification: "jwks" | "tokenreview";
  /** Node flags, e.g. --cpu-prof. */
  readonly nodeArgs?: readonly string[];
  /** Entry point and loader: the tsc output the image runs (the default, ctx.controllerScript) or the source under tsx. */
  readonly entry?: { readonly script: string; readonly loader: "tsx" | "plain" };
}

export async function startControllerProcess(ctx: BenchContext, options: ControllerOptions): Promise<ControllerProcess> {
  const namespace = await freshNamespace(`tessera-${options.name}`, {}, ctx.clients);
  const ports = await freeControllerPorts();
  const launch = controllerCommand(
    {
      kubeconfigPath: ctx.controlPlane.kubeconfigPath,
      namespace,
      podName: `${options.name}-0`,
      ports,
      issuerHost: "localhost",
      clusterName: "bench",
      environment: "bench",
      sidecarImage: "tessera/sidecar:bench",
      serviceAccountIssuer: ctx.controlPlane.serviceAccountIssuer,
      subjectVerification: options.subjectVerification,
      // Info level, as deployed: every decision is logged.
      logLevel: "info",
      // The bench measures what one replica can issue, over a few hundred pods at its maximum rate: each pod then
      // asks far more often than the per-pod cap allows a real sidecar (5 a second), which would turn the run into
      // a measurement of 429s. The cap's own cost is measured in docs/issuer.md.
      baseEnv: { [ENV_POD_EXCHANGES_PER_SECOND]: "10000", [ENV_POD_EXCHANGE_BURST]: "100000" },
    },
    {
      entry: { script: options.entry?.script ?? ctx.controllerScript, loader: options.entry?.loader ?? "plain" },
      ...(options.nodeArgs === undefined ? {} : { nodeArgs: options.nodeArgs }),
    },
  );
  const { issuerUrl } = launch;
  const { issuer: issuerPort, admission: admissionPort, health: healthPort } = ports;
  const child = new BenchChild({
    name: `controller (${options.name})`,
    command: launch,
    cpu: ctx.cpus.server,
    // The file plays the container runtime's log pipe.
    logFile: join(ctx.scratchDir, `controller-${options.name}.log`),
    env: launch.env,
  });
  const readyAt = await waitUntil(
    child,
    "/readyz 200",
    async () => (await fetch(launch.readyzUrl)).status === 200,
    90_000,
    50,
  );
  const secret = await readWebhookSecret(kubeClientFromConfig(ctx.clients.kubeConfig), namespace);
  if (secret === undefined) throw new Error(`the controller wrote no webhook TLS Secret in ${namespace}`);
  return {
    child,
    namespace,
    issuerUrl,
    issuerPort,
    admissionPort,
    healthPort,
    caPem: secret.caBundle,
    tls: { cert: secret.tlsCert, key: secret.tlsKey },
    readyAfterMs: readyAt - child.startedAt,
  };
}
