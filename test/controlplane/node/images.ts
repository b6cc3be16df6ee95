// The node tier's base images, made on this machine and cached by version: the sandbox's pause program and busybox
// from Debian's busybox-static package. Imported into the node's containerd; pods use them with pullPolicy Never.
import { access, chmod, copyFile, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { ControlPlaneError } from "../errors.ts";
import { writeImageArchive, type ImageConfig } from "./image-archive.ts";
import { run } from "./run.ts";

/** An image archive in the cache and the reference it is imported under. */
export interface CachedImage {
  readonly reference: string;
  readonly archive: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** A tag may hold letters, digits, `_`, `.` and `-` only; a Debian version has `:` and `+` as well. */
export function tagOf(version: string): string {
  return version.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 128);
}

/** Packs `rootfs` once per cache key: returns the cached archive when it is there already. */
export async function cachedArchive(
  cacheDir: string,
  fileName: string,
  reference: string,
  config: ImageConfig,
  fillRootfs: (rootfs: string) => Promise<void>,
): Promise<CachedImage> {
  const archive = join(cacheDir, "images", fileName);
  if (await exists(archive)) return { reference, archive };
  await mkdir(join(cacheDir, "images"), { recursive: true });
  const rootfs = await mkdtemp(join(cacheDir, "images", ".rootfs-"));
  try {
    await fillRootfs(rootfs);
    await writeImageArchive({ rootfs, reference, config, out: archive });
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
  return { reference, archive };
}

/** The image of every pod sandbox: only the pause program (built from test/controlplane/pause). */
export function pauseImage(cacheDir: string, pauseBinary: string, version: string): Promise<CachedImage> {
  return cachedArchive(
    cacheDir,
    `tessera-pause-${version}.tar`,
    `localhost/tessera-pause:${version}`,
    { entrypoint: ["/pause"], user: "65535:65535" },
    async (rootfs) => {
      await copyFile(pauseBinary, join(rootfs, "pause"));
      await chmod(join(rootfs, "pause"), 0o755);
    },
  );
}

/** Downloads Debian's busybox-static package into the cache once (apt-get download), returning the .deb's path. */
export async function busyboxDeb(cacheDir: string): Promise<string> {
  const debs = join(cacheDir, "debs");
  await mkdir(debs, { recursive: true });
  const find = async (): Promise<string | undefined> =>
    (await readdir(debs)).find((name) => name.startsWith("busybox-static_") && name.endsWith(".deb"));
  let deb = await find();
  if (deb === undefined) {
    await run("sh", ["-c", 'cd "$1" && apt-get download busybox-static', "sh", debs], {
      timeoutMs: 300_000,
      code: "PACKAGES_FAILED",
    });
    deb = await find();
  }
  if (deb === undefined) throw new ControlPlaneError("PACKAGES_FAILED", "apt-get download busybox-static left no .deb");
  return join(debs, deb);
}

/** busybox (one static binary, every applet through `busybox APPLET`): the node tier's test workloads. */
export async function busyboxImage(cacheDir: string): Promise<CachedImage> {
  const deb = await busyboxDeb(cacheDir);
  const { stdout } = await run("dpkg-deb", ["--field", deb, "Version"]);
  const tag = tagOf(stdout.trim());
  return cachedArchive(
    cacheDir,
    `tessera-busybox-${tag}.tar`,
    `localhost/tessera-busybox:${tag}`,
    { entrypoint: ["/bin/busybox"], cmd: ["sh"] },
    async (rootfs) => {
      await run("dpkg-deb", ["-x", deb, rootfs]);
      // /tmp for programs that write scratch files; the image has no other writable place.
      await mkdir(join(rootfs, "tmp"), { mode: 0o1777 });
      await chmod(join(rootfs, "tmp"), 0o1777);
    },
  );
}

/** Imports image archives into the node's containerd, in the namespace the CRI plugin (the kubelet) sees. */
export async function importImages(socket: string, images: readonly CachedImage[]): Promise<void> {
  for (const image of images) {
    await run("ctr", ["--address", socket, "--namespace", "k8s.io", "images", "import", image.archive], {
      timeoutMs: 300_000,
    });
  }
}
