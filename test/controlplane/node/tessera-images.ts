// Builds Tessera's controller and sidecar images from the repository's own Dockerfile with buildah (no Docker
// daemon, no registry): the Dockerfile's base images are replaced by local stand-ins through its build arguments,
// the build has no network, and the results are cached by the hash of every file the Dockerfile reads.
import { createHash } from "node:crypto";
import { access, mkdir, mkdtemp, readdir, readFile, rename, rm } from "node:fs/promises";
import { join, relative } from "node:path";
import { ControlPlaneError } from "../errors.ts";
import { busyboxDeb, type CachedImage } from "./images.ts";
import { unmountUnder } from "./mounts.ts";
import { NPM_CACHE_IN_BUILD, nodeBaseImages } from "./node-base-images.ts";
import { ensurePackages, IMAGE_BUILD_FILES } from "./packages.ts";
import { run } from "./run.ts";

/** What the Dockerfile copies into its build (keep in step with its COPY lines), plus the Dockerfile itself. */
export const BUILD_INPUTS: readonly string[] = Object.freeze([
  "Dockerfile",
  ".dockerignore",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "tsconfig.build.json",
  "api",
  "controller/src",
  "sidecar/src",
  "sidecar/bundle.ts",
]);

export type TesseraTarget = "controller" | "sidecar";

export interface TesseraImages {
  readonly controller: CachedImage;
  readonly sidecar: CachedImage;
  /** Repository (without tag) and tag of each, as the chart's values want them. */
  readonly tag: string;
  /** Seconds the build took; 0 when both came from the cache. */
  readonly buildS: number;
}

export interface TesseraImageOptions {
  readonly repoDir: string;
  readonly cacheDir: string;
  readonly nodeBinary: string;
  readonly npmDir: string;
  /** The machine's npm cache, which the build reads packages from (`npm ci` has filled it). */
  readonly npmCacheDir: string;
  readonly log: (line: string) => void;
}

async function filesUnder(path: string): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true }).catch(() => undefined);
  if (entries === undefined) return [path];
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    files.push(...(await filesUnder(join(path, entry.name))));
  }
  return files;
}

/** sha256 over the relative path and content of every build input: the cache key of the images. */
export async function buildInputsHash(repoDir: string, inputs: readonly string[] = BUILD_INPUTS): Promise<string> {
  const hash = createHash("sha256");
  for (const input of inputs) {
    for (const file of await filesUnder(join(repoDir, input))) {
      hash.update(relative(repoDir, file)).update("\0").update(await readFile(file)).update("\0");
    }
  }
  return hash.digest("hex");
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export async function ensureTesseraImages(options: TesseraImageOptions): Promise<TesseraImages> {
  const { cacheDir, log } = options;
  const key = (await buildInputsHash(options.repoDir)).slice(0, 16);
  const base = await nodeBaseImages(cacheDir, options.nodeBinary, await busyboxDeb(cacheDir), options.npmDir);
  const tag = `local-${key}-${base.nodeVersion.replace(/[^A-Za-z0-9_.-]/g, "-")}`;
  const image = (target: TesseraTarget): CachedImage => ({
    reference: `localhost/tessera/${target}:${tag}`,
    archive: join(cacheDir, "images", `tessera-${target}-${tag}.tar`),
  });
  const controller = image("controller");
  const sidecar = image("sidecar");
  if ((await exists(controller.archive)) && (await exists(sidecar.archive))) return { controller, sidecar, tag, buildS: 0 };

  await ensurePackages(IMAGE_BUILD_FILES, log);
  const started = Date.now();
  // A private image store per build, removed afterwards: nothing accumulates in /var/lib/containers.
  await mkdir(join(cacheDir, "images"), { recursive: true });
  const store = await mkdtemp(join(cacheDir, ".buildah-"));
  const global = ["--root", join(store, "root"), "--runroot", join(store, "run"), "--storage-driver", "overlay"];
  // Every buildah call runs in a network namespace of its own with only a loopback device (unshare --net): the
  // build's RUN steps (chroot isolation, which shares buildah's network) cannot reach anything.
  const buildah = (args: readonly string[]): Promise<unknown> =>
    run("unshare", ["--net", "buildah", ...global, ...args], { timeoutMs: 1_800_000, code: "NODE_SETUP_FAILED" });
  try {
    for (const baseImage of [base.build, base.runtime]) {
      await buildah(["pull", "--quiet", `docker-archive:${baseImage.archive}`]);
    }
    for (const target of ["controller", "sidecar"] as const) {
      log(`building the ${target} image from the Dockerfile`);
      await buildah([
        "bud",
        "--isolation",
        "chroot",
        "--network",
        "host",
        // An optional-value flag: the value must be attached.
        "--pull=never",
        "--layers",
        "--build-arg",
        `BUILD_BASE=${base.build.reference}`,
        "--build-arg",
        `RUNTIME_BASE=${base.runtime.reference}`,
        "--volume",
        `${options.npmCacheDir}:${NPM_CACHE_IN_BUILD}:O`,
        "--target",
        target,
        "--tag",
        image(target).reference,
        options.repoDir,
      ]);
      const out = image(target).archive;
      const staging = `${out}.tmp`;
      await rm(staging, { force: true });
      await buildah(["push", "--quiet", image(target).reference, `docker-archive:${staging}:${image(target).reference}`]);
      await rename(staging, out);
    }
  } catch (err) {
    throw err instanceof ControlPlaneError ? err : new ControlPlaneError("NODE_SETUP_FAILED", String(err), { cause: err });
  } finally {
    await buildah(["rmi", "--all", "--force"]).catch(() => undefined);
    const left = await unmountUnder(store);
    if (left.length === 0) await rm(store, { recursive: true, force: true });
  }
  const buildS = Math.round((Date.now() - started) / 1000);
  log(`built Tessera's images in ${buildS} s`);
  return { controller, sidecar, tag, buildS };
}
