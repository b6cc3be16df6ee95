// The cluster the demo runs against: the one in KUBECONFIG, or a local control plane started (and built) for it.
import { KubeConfig, VersionApi } from "@kubernetes/client-node";
import { ensureBinaries } from "../../test/controlplane/build.ts";
import { startControlPlane } from "../../test/controlplane/harness.ts";
import type { DemoConfig } from "./config.ts";

export interface DemoCluster {
  readonly kubeConfig: KubeConfig;
  /** The kubeconfig file, for the programs the demo starts (the controller). */
  readonly kubeconfigPath: string;
  /** "local control plane" or "KUBECONFIG". */
  readonly source: string;
  readonly server: string;
  readonly version: string;
  /** Stops what the demo started; a no-op for a cluster it was given. */
  stop(): Promise<void>;
}

async function serverVersion(kubeConfig: KubeConfig): Promise<string> {
  const info = await kubeConfig.makeApiClient(VersionApi).getCode();
  return info.gitVersion;
}

export async function acquireCluster(config: DemoConfig, log: (line: string) => void): Promise<DemoCluster> {
  if (config.kubeconfigPath !== undefined) {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(config.kubeconfigPath);
    return {
      kubeConfig,
      kubeconfigPath: config.kubeconfigPath,
      source: "KUBECONFIG",
      server: kubeConfig.getCurrentCluster()?.server ?? "(unknown)",
      version: await serverVersion(kubeConfig),
      stop: () => Promise.resolve(),
    };
  }
  const binaries = await ensureBinaries({ cacheDir: config.cacheDir, env: config.env, log });
  const controlPlane = await startControlPlane({ binaries, log });
  try {
    return {
      kubeConfig: controlPlane.kubeConfig,
      kubeconfigPath: controlPlane.kubeconfigPath,
      source: "local control plane",
      server: controlPlane.apiserverUrl,
      version: await serverVersion(controlPlane.kubeConfig),
      stop: () => controlPlane.stop(),
    };
  } catch (err) {
    await controlPlane.stop();
    throw err;
  }
}
