// Runs the real controller (controller/src/main.ts) as its own process, pinned to the server CPU, and waits until it is ready.
import { join } from "node:path";
import { readWebhookSecret } from "../controller/src/admission/webhook-certs.ts";
import { kubeClientFromConfig } from "../controller/src/kube/kube-http.ts";
import { freeLoopbackPorts } from "../test/controlplane/ports.ts";
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
  const [issuerPort = 0, admissionPort = 0, healthPort = 0] = await freeLoopbackPorts(3);
  const issuerUrl = `https://localhost:${issuerPort}`;
  const child = new BenchChild({
    name: `controller (${options.name})`,
    script: options.entry?.script ?? ctx.controllerScript,
    loader: options.entry?.loader ?? "plain",
    cpu: ctx.cpus.server,
    // Info level, as deployed: every decision is logged. The file plays the container runtime's log pipe.
    logFile: join(ctx.scratchDir, `controller-${options.name}.log`),
    ...(options.nodeArgs === undefined ? {} : { nodeArgs: options.nodeArgs }),
    env: {
      KUBECONFIG: ctx.controlPlane.kubeconfigPath,
      TESSERA_NAMESPACE: namespace,
      TESSERA_POD_NAME: `${options.name}-0`,
      TESSERA_CLUSTER_NAME: "bench",
      TESSERA_ENVIRONMENT: "bench",
      TESSERA_ISSUER_PUBLIC_URL: issuerUrl,
      TESSERA_ISSUER_PORT: String(issuerPort),
      TESSERA_ADMISSION_PORT: String(admissionPort),
      TESSERA_HEALTH_PORT: String(healthPort),
      TESSERA_BIND_ADDRESS: "127.0.0.1",
      TESSERA_SERVING_DNS_NAMES: "localhost",
      TESSERA_SIDECAR_IMAGE: "tessera/sidecar:bench",
      TESSERA_SERVICE_ACCOUNT_ISSUER: ctx.controlPlane.serviceAccountIssuer,
      TESSERA_TOKEN_REVIEW_MODE: options.subjectVerification,
      TESSERA_LOG_LEVEL: "info",
    },
  });
  const readyAt = await waitUntil(
    child,
    "/readyz 200",
    async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status === 200,
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
