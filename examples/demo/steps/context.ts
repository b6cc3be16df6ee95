// What every demo step is given: the cluster, its clients, the cleanup list and a scratch directory.
import type { CoreV1Api } from "@kubernetes/client-node";
import type { KubeClient } from "../../../controller/src/kube/kube-http.ts";
import type { Cleanup } from "../cleanup.ts";
import type { DemoCluster } from "../cluster.ts";

export interface DemoContext {
  readonly cluster: DemoCluster;
  readonly repoRoot: string;
  readonly kube: KubeClient;
  readonly core: CoreV1Api;
  readonly cleanup: Cleanup;
  /** Removed at the end; holds the volumes the demo plays the kubelet for. */
  readonly tempDir: string;
  /** Unique per run: pod names, the webhook marker. */
  readonly runId: string;
  /** Milliseconds, for measured times. */
  readonly now: () => number;
}

/** The story the demo tells, taken from examples/: the checkout API calling payments (internal-api). */
export const SCENARIO = {
  /** Where the demo's controller keeps its lease, keys and webhook certificate. */
  tesseraNamespace: "tessera-demo",
  /** The service account the demo calls explain as (allowed by the controller's explain allowlist). */
  operator: "operator",
  /** The ServiceAccount and the Deployment whose pod template the demo creates a pod from. */
  workloadDir: "examples/internal-api",
  policy: { kind: "TokenPolicy", namespace: "checkout", name: "checkout-to-payments" },
  /** Granted only in the sandbox namespace (examples/cluster-baseline), so checkout is refused it. */
  deniedAudience: "https://ledger.internal.example",
  /** Granted to checkout too (examples/internal-api/inventory-token-policy.yaml): a valid token the payments API must refuse. */
  otherAudience: "https://inventory.internal.example",
  /** Step 9: the checkout team's own policy for the ledger API, whose owner admits only the sandbox notebooks. */
  squat: { audience: "https://ledger.internal.example", scope: "ledger.write", policyName: "ledger-writes" },
  /** Step 10: checkout lets the planner agent read payments for it; charging stays checkout's own. */
  delegation: {
    agent: { namespace: "agents", serviceAccount: "planner" },
    audience: "https://payments.internal.example",
    scope: "payments.read",
    kept: "payments.charge",
  },
  /** The claim step 7 adds to the policy. */
  addedClaim: { name: "region", expression: '"eu-west-1"', value: "eu-west-1" },
} as const;
