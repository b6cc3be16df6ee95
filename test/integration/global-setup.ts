// One real control plane per integration run: builds missing binaries, starts etcd + kube-apiserver, shares its info.
import type { TestProject } from "vitest/node";
import { ensureBinaries } from "../controlplane/build.ts";
import { loadControlPlaneConfig } from "../controlplane/config.ts";
import { startControlPlane } from "../controlplane/harness.ts";
import type { ControlPlaneInfo } from "../controlplane/info.ts";
import { CHECK_BINARIES, CONTROL_PLANE_BINARIES } from "../controlplane/versions.ts";

declare module "vitest" {
  export interface ProvidedContext {
    controlPlane: ControlPlaneInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const config = loadControlPlaneConfig(process.env);
  const log = (line: string): void => {
    console.log(`[control plane] ${line}`);
  };
  // promtool too: the chart's alert tests run it (built once per machine and version, like the rest).
  const binaries = await ensureBinaries({ cacheDir: config.cacheDir, env: process.env, log, names: [...CONTROL_PLANE_BINARIES, ...CHECK_BINARIES] });
  const controlPlane = await startControlPlane({ binaries, log });
  project.provide("controlPlane", controlPlane.info());
  return async () => {
    await controlPlane.stop();
  };
}
