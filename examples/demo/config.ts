// The demo's settings, read once from its command line and environment.

export interface DemoConfig {
  /** Print one JSON document for machines instead of the table for people. */
  readonly json: boolean;
  /** Colour the table (a terminal, and NO_COLOR unset). */
  readonly color: boolean;
  /** The cluster to use; the local control plane when undefined. */
  readonly kubeconfigPath: string | undefined;
  /** Cache of the local control plane's binaries. */
  readonly cacheDir: string;
  /** Environment handed to `go` when binaries must be built. */
  readonly env: NodeJS.ProcessEnv;
}

export class DemoUsageError extends Error {
  override readonly name = "DemoUsageError";
}

export const USAGE = `usage: npm run demo [-- --json]

Runs Tessera's whole flow and explains each step: installs the CRDs and starts the controller, applies the
example policies, creates an opted-in pod (the webhook injects the sidecar), plays the kubelet and starts the
sidecar, reads a token like an application, calls the payments API (which verifies tokens with tessera/verify and
refuses a token for another audience and one with too few scopes), explains the pod and shows a denial, edits the policy and times
the sidecar serving the new claims, then removes what it started (also on Ctrl-C).
Uses the cluster in $KUBECONFIG when set (its apiserver must reach this machine's loopback); otherwise starts
a local control plane (kube-apiserver + etcd, built from Go modules on first use) and stops it on exit.
  --json   one JSON document on stdout (use npm run --silent demo -- --json)`;

export function loadDemoConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  isTty: boolean,
  cacheDir: string,
): DemoConfig | "help" {
  let json = false;
  for (const arg of argv) {
    if (arg === "--json") json = true;
    else if (arg === "--help" || arg === "-h") return "help";
    else throw new DemoUsageError(`unknown argument ${arg}\n\n${USAGE}`);
  }
  const kubeconfig = env["KUBECONFIG"];
  let kubeconfigPath: string | undefined;
  if (kubeconfig !== undefined && kubeconfig !== "") {
    const files = kubeconfig.split(":").filter((f) => f !== "");
    if (files.length !== 1) throw new DemoUsageError("KUBECONFIG must name exactly one file for the demo");
    kubeconfigPath = files[0];
  }
  const noColor = env["NO_COLOR"] !== undefined && env["NO_COLOR"] !== "";
  return Object.freeze({ json, color: isTty && !json && !noColor, kubeconfigPath, cacheDir, env });
}
