// Puts Tessera on the node the way a user would: its images built from the repository's Dockerfile and imported
// into the node's containerd, then the chart installed with helm, defaults except image references and pull policy.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runHelm } from "../controlplane/helm.ts";
import type { NodeCluster } from "../controlplane/node/node.ts";
import { run } from "../controlplane/node/run.ts";
import { ensureTesseraImages, type TesseraImages } from "../controlplane/node/tessera-images.ts";

const REPO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const TESSERA_NAMESPACE = "tessera";
export const TESSERA_RELEASE = "tessera";

export interface TesseraInstall {
  readonly images: TesseraImages;
  /** Seconds from `helm install` to the release being ready (helm --wait). */
  readonly installS: number;
}

/** The values a user passes for images they built and loaded themselves; everything else stays at its default. */
export function imageValues(images: TesseraImages): string[] {
  const set = (key: string, value: string): string[] => ["--set", `${key}=${value}`];
  const repository = (reference: string): string => reference.slice(0, reference.lastIndexOf(":"));
  return [
    ...set("image.controller.repository", repository(images.controller.reference)),
    ...set("image.controller.tag", images.tag),
    ...set("image.controller.pullPolicy", "Never"),
    ...set("image.sidecar.repository", repository(images.sidecar.reference)),
    ...set("image.sidecar.tag", images.tag),
  ];
}

export async function installTessera(
  node: NodeCluster,
  helmPath: string,
  cacheDir: string,
  log: (line: string) => void,
): Promise<TesseraInstall> {
  const npmRoot = (await run("npm", ["root", "--global"])).stdout.trim();
  const npmCacheDir = (await run("npm", ["config", "get", "cache"])).stdout.trim();
  const images = await ensureTesseraImages({
    repoDir: REPO_DIR,
    cacheDir,
    nodeBinary: process.execPath,
    npmDir: join(npmRoot, "npm"),
    npmCacheDir,
    log,
  });
  await node.importImages([images.controller, images.sidecar]);
  const helmHome = await mkdtemp(join(tmpdir(), "tessera-helm-"));
  const started = Date.now();
  try {
    log("installing the chart");
    await runHelm(
      helmPath,
      [
        "install",
        TESSERA_RELEASE,
        join(REPO_DIR, "charts", "tessera"),
        "--namespace",
        TESSERA_NAMESPACE,
        "--create-namespace",
        "--kubeconfig",
        node.controlPlane.kubeconfigPath,
        ...imageValues(images),
        "--wait",
        "--timeout",
        "5m",
      ],
      {
        env: {
          ...process.env,
          HELM_CACHE_HOME: join(helmHome, "cache"),
          HELM_CONFIG_HOME: join(helmHome, "config"),
          HELM_DATA_HOME: join(helmHome, "data"),
        },
      },
    );
  } finally {
    await rm(helmHome, { recursive: true, force: true });
  }
  const installS = Math.round((Date.now() - started) / 100) / 10;
  log(`chart installed and ready in ${installS} s`);
  return { images, installS };
}
