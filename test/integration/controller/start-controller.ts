// Starts an in-process ControllerCore against the shared (or a private) real control plane, with short lease timings.
import type { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { ControllerCore, type ControllerCoreOptions } from "../../../controller/src/reconcile/controller.ts";
import { kubeClientFromConfig } from "../../../controller/src/kube/kube-http.ts";
import { tesseraPolicyEngine } from "../../../controller/src/app/engine-adapters.ts";
import { realTimers } from "../../../controller/src/reconcile/timers.ts";

export const TEST_TIMING = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 };

/** Options a test may add: publishing the issuer CA, and metrics to read. */
export type ExtraControllerOptions = Partial<Pick<ControllerCoreOptions<unknown, unknown>, "issuerCaConfigMap" | "metrics">>;

export async function startController(kubeConfig: KubeConfig, namespace: string, identity: string, extra: ExtraControllerOptions = {}) {
  const core = new ControllerCore({
    client: kubeClientFromConfig(kubeConfig),
    namespace,
    identity,
    fieldManager: `tessera-${identity}`,
    engine: tesseraPolicyEngine(),
    leaderTiming: TEST_TIMING,
    timers: realTimers,
    now: () => new Date(),
    random: Math.random,
    log: pino({ level: process.env["TESSERA_TEST_LOG_LEVEL"] ?? "silent" }).child({ identity }),
    informer: { backoff: { initialMs: 200, maxMs: 2_000 } },
    ...extra,
  });
  await core.start();
  return core;
}
