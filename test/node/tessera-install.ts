// Puts Tessera on the node the way a user would: its images built from the repository's Dockerfile and imported
// into the node's containerd, then the chart installed with helm, defaults except image references and pull policy.
import { mkdtemp, rm } from "node:fs/promises";
import { CoreV1Api } from "@kubernetes/client-node";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runHelm } from "../controlplane/helm.ts";
import type { NodeCluster } from "../controlplane/node/node.ts";
import { run } from "../controlplane/node/run.ts";
import { ensureTesseraImages, type TesseraImages } from "../controlplane/node/tessera-images.ts";
import { authenticationConfigFor } from "../integration/ci-deploy/authentication-config.ts";
import { authenticationConfigReloads } from "../integration/support/apiserver-metrics.ts";
import { SECRET_WEBHOOK_TLS } from "../../api/constants.ts";

const REPO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const TESSERA_NAMESPACE = "tessera";
export const TESSERA_RELEASE = "tessera";
/** The chart's default issuer URL (its Service name): the `iss` of every token on the node tier. */
export const TESSERA_ISSUER_URL = `https://tessera.${TESSERA_NAMESPACE}.svc`;

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

/**
 * Makes the kube-apiserver trust Tessera's tokens for its own audience, as docs/ci-deploy.md tells an operator to:
 * the CI deploy example's AuthenticationConfiguration with the chart's issuer URL and the CA of the serving
 * certificate Tessera made for itself. The apiserver re-reads the file and swaps the authenticator in only once it
 * holds the issuer's keys, so this waits for that reload. Returns the seconds it took.
 */
export async function trustTesseraAtTheApiserver(node: NodeCluster, log: (line: string) => void): Promise<number> {
  const kubeConfig = node.controlPlane.kubeConfig;
  const secret = await kubeConfig.makeApiClient(CoreV1Api).readNamespacedSecret({ name: SECRET_WEBHOOK_TLS, namespace: TESSERA_NAMESPACE });
  const caPem = Buffer.from(secret.data?.["ca.crt"] ?? "", "base64").toString("utf8");
  if (caPem === "") throw new Error(`${TESSERA_NAMESPACE}/${SECRET_WEBHOOK_TLS} has no ca.crt`);
  const before = await authenticationConfigReloads(kubeConfig, "success");
  const started = Date.now();
  await node.controlPlane.writeAuthenticationConfig(await authenticationConfigFor(TESSERA_ISSUER_URL, caPem));
  for (;;) {
    if ((await authenticationConfigReloads(kubeConfig, "success")) > before) break;
    // The apiserver checks the file at least once a minute and retries an unhealthy issuer every 10 s.
    if (Date.now() - started > 180_000) {
      const failures = await authenticationConfigReloads(kubeConfig, "failure");
      throw new Error(
        `the apiserver did not load Tessera as a JWT issuer within 180 s (${String(failures)} failed reloads); see ${node.controlPlane.logPaths.apiserver}`,
      );
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 500));
  }
  const trustS = Math.round((Date.now() - started) / 100) / 10;
  log(`the apiserver trusts Tessera's tokens for its audience after ${trustS} s`);
  return trustS;
}
