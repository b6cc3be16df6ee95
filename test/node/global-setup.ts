// One real node cluster per node-tier run: builds what is missing, starts the control plane, containerd, a kubelet,
// the controller-manager and the scheduler, and shares how to reach them. Without root it says why and the tier's
// tests are skipped; in CI (which runs as root) a missing root is an error, never a skip.
import type { TestProject } from "vitest/node";
import { ensureBinaries } from "../controlplane/build.ts";
import { loadControlPlaneConfig } from "../controlplane/config.ts";
import type { ControlPlaneInfo } from "../controlplane/info.ts";
import { nodeTierUnavailableReason, startNodeCluster, type NodeImages, type NodeStartTimings } from "../controlplane/node/node.ts";
import { CONTROL_PLANE_BINARIES, NODE_BINARIES } from "../controlplane/versions.ts";
import { ciDeployImages } from "./example-images.ts";
import { installTessera, trustTesseraAtTheApiserver } from "./tessera-install.ts";

/** What node-tier tests get: the cluster, or the reason there is none. */
export type NodeTier =
  | {
      readonly available: true;
      readonly nodeName: string;
      readonly images: NodeImages;
      readonly timings: NodeStartTimings;
      /** Tag of Tessera's images on the node, and seconds their build and the chart's install took. */
      readonly tesseraTag: string;
      readonly imagesBuildS: number;
      readonly chartInstallS: number;
      /** Seconds from writing the apiserver's AuthenticationConfiguration to it accepting Tessera's tokens. */
      readonly apiserverTrustS: number;
    }
  | { readonly available: false; readonly reason: string };

declare module "vitest" {
  export interface ProvidedContext {
    controlPlane: ControlPlaneInfo;
    nodeTier: NodeTier;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const log = (line: string): void => {
    console.log(`[node tier] ${line}`);
  };
  const unavailable = nodeTierUnavailableReason();
  if (unavailable !== undefined) {
    if (process.env["CI"] !== undefined && process.env["CI"] !== "") {
      throw new Error(`the node tier must run in CI, but ${unavailable}`);
    }
    log(`skipped: ${unavailable}`);
    project.provide("nodeTier", { available: false, reason: unavailable });
    return undefined;
  }
  const config = loadControlPlaneConfig(process.env);
  const binaries = await ensureBinaries({
    cacheDir: config.cacheDir,
    env: process.env,
    names: [...CONTROL_PLANE_BINARIES, ...NODE_BINARIES],
    log,
  });
  const node = await startNodeCluster({ binaries, cacheDir: config.cacheDir, log });
  let install;
  let trustS;
  try {
    install = await installTessera(node, binaries.helm, config.cacheDir, log);
    // What the CI deploy example needs besides the chart: the images its Job and release name, and an apiserver
    // that accepts Tessera's tokens.
    await node.importImages(await ciDeployImages(config.cacheDir, binaries));
    trustS = await trustTesseraAtTheApiserver(node, log);
  } catch (err) {
    await node.stop().catch((stopErr: unknown) => {
      log(stopErr instanceof Error ? stopErr.message : String(stopErr));
    });
    throw err;
  }
  project.provide("controlPlane", node.controlPlane.info());
  project.provide("nodeTier", {
    available: true,
    nodeName: node.nodeName,
    images: node.images,
    timings: node.timings,
    tesseraTag: install.images.tag,
    imagesBuildS: install.images.buildS,
    chartInstallS: install.installS,
    apiserverTrustS: trustS,
  });
  return async () => {
    await node.stop();
  };
}
