// The images the CI deploy example names (examples/ci-deploy/release-job.yaml), made on this machine under exactly
// those names, because the node has no registry: kubectl built from the same Kubernetes release as the cluster, and
// the pause program the release's Deployment runs. The example's manifests are then applied as they are.
import { chmod, copyFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { cachedArchive, tagOf, type CachedImage } from "../controlplane/node/images.ts";
import { KUBE_VERSION, PAUSE_VERSION } from "../controlplane/versions.ts";
import { EXAMPLES_DIR } from "../integration/support/crds.ts";

export const CI_DEPLOY_JOB_FILE = join(EXAMPLES_DIR, "ci-deploy", "release-job.yaml");

interface Manifest {
  readonly kind?: string;
  readonly metadata?: { readonly name?: string };
  readonly data?: Readonly<Record<string, string>>;
  readonly spec?: { readonly template?: { readonly spec?: { readonly containers?: readonly { readonly image?: string }[] } } };
}

function manifests(yamlText: string): Manifest[] {
  return parseAllDocuments(yamlText).map((doc) => doc.toJS() as Manifest);
}

function firstImage(manifest: Manifest | undefined, what: string): string {
  const image = manifest?.spec?.template?.spec?.containers?.[0]?.image;
  if (image === undefined) throw new Error(`${CI_DEPLOY_JOB_FILE}: ${what} names no image`);
  return image;
}

/** The two images the example runs: its Job's kubectl, and the image of the Deployment in the release it applies. */
export function ciDeployImageNames(yamlText: string): { readonly kubectl: string; readonly release: string } {
  const all = manifests(yamlText);
  const kubectl = firstImage(
    all.find((m) => m.kind === "Job"),
    "the Job",
  );
  const releaseText = all.find((m) => m.kind === "ConfigMap" && m.data?.["release.yaml"] !== undefined)?.data?.["release.yaml"];
  if (releaseText === undefined) throw new Error(`${CI_DEPLOY_JOB_FILE}: no ConfigMap holds release.yaml`);
  const release = firstImage(
    manifests(releaseText).find((m) => m.kind === "Deployment"),
    "the release's Deployment",
  );
  return { kubectl, release };
}

/**
 * Archives of both images, cached by their names and the sources they are made from. Fails when the example's kubectl
 * is another release than the cluster's: the node would run a kubectl nobody asked for.
 */
export async function ciDeployImages(
  cacheDir: string,
  binaries: { readonly kubectl: string; readonly pause: string },
): Promise<CachedImage[]> {
  const names = ciDeployImageNames(await readFile(CI_DEPLOY_JOB_FILE, "utf8"));
  const kubectlTag = names.kubectl.slice(names.kubectl.lastIndexOf(":") + 1);
  if (kubectlTag !== KUBE_VERSION) {
    throw new Error(`${CI_DEPLOY_JOB_FILE} runs kubectl ${kubectlTag}, the node tier builds ${KUBE_VERSION}: make them agree`);
  }
  const kubectl = await cachedArchive(
    cacheDir,
    `tessera-example-kubectl-${tagOf(KUBE_VERSION)}.tar`,
    names.kubectl,
    // As the published image: kubectl is the entrypoint, the Job passes only its arguments.
    { entrypoint: ["/bin/kubectl"] },
    async (rootfs) => {
      await mkdir(join(rootfs, "bin"));
      await copyFile(binaries.kubectl, join(rootfs, "bin", "kubectl"));
      await chmod(join(rootfs, "bin", "kubectl"), 0o755);
      // /tmp for scratch files; the image has no other writable place.
      await mkdir(join(rootfs, "tmp"), { mode: 0o1777 });
      await chmod(join(rootfs, "tmp"), 0o1777);
    },
  );
  const release = await cachedArchive(
    cacheDir,
    `tessera-example-release-${tagOf(names.release.slice(names.release.lastIndexOf("/") + 1))}-${PAUSE_VERSION}.tar`,
    names.release,
    { entrypoint: ["/pause"], user: "65535:65535" },
    async (rootfs) => {
      await copyFile(binaries.pause, join(rootfs, "pause"));
      await chmod(join(rootfs, "pause"), 0o755);
    },
  );
  return [kubectl, release];
}
