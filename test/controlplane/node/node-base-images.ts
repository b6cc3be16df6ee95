// Local stand-ins for the registry base images of Tessera's Dockerfile, made from this machine's Node.js: a runtime
// base (node and the shared libraries it links, user 65532, node as the entrypoint, as distroless's is) and a build
// base (the same plus npm and busybox for RUN's shell). Cached by the Node.js version.
import { chmod, copyFile, mkdir, readFile, realpath, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ControlPlaneError } from "../errors.ts";
import type { CachedImage } from "./images.ts";
import { cachedArchive, tagOf } from "./images.ts";
import { run } from "./run.ts";

/** Shared libraries in `ldd` output (pure): the absolute paths it resolved, the vDSO left out. */
export function lddPaths(lddOutput: string): string[] {
  const paths = new Set<string>();
  for (const line of lddOutput.split("\n")) {
    const resolved = /=>\s+(\/\S+)/.exec(line)?.[1] ?? /^\s*(\/\S+)\s+\(/.exec(line)?.[1];
    if (resolved !== undefined) paths.add(resolved);
  }
  return [...paths];
}

/** Copies `file` to the same absolute path under `rootfs`, following symlinks (the rootfs holds the real file). */
async function copyInto(rootfs: string, file: string, mode = 0o755): Promise<void> {
  const target = join(rootfs, file);
  await mkdir(dirname(target), { recursive: true });
  await copyFile(await realpath(file), target);
  await chmod(target, mode);
}

const NODE_IN_IMAGE = "/usr/local/bin/node";
/** Where an image build mounts the machine's npm cache (read-only, through an overlay). */
export const NPM_CACHE_IN_BUILD = "/npm-cache";

/** node, its libraries, /etc/passwd with root and the distroless nonroot user, a writable /tmp. */
async function fillRuntimeRootfs(rootfs: string, nodeBinary: string): Promise<void> {
  const { stdout } = await run("ldd", [nodeBinary]);
  for (const lib of lddPaths(stdout)) await copyInto(rootfs, lib);
  await mkdir(join(rootfs, "usr/local/bin"), { recursive: true });
  await copyFile(nodeBinary, join(rootfs, NODE_IN_IMAGE));
  await chmod(join(rootfs, NODE_IN_IMAGE), 0o755);
  await mkdir(join(rootfs, "etc"), { recursive: true });
  await writeFile(join(rootfs, "etc/passwd"), "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n");
  await writeFile(join(rootfs, "etc/group"), "root:x:0:\nnonroot:x:65532:\n");
  for (const dir of ["tmp", "root", "home/nonroot"]) await mkdir(join(rootfs, dir), { recursive: true });
  await chmod(join(rootfs, "tmp"), 0o1777);
}

export interface NodeBaseImages {
  readonly runtime: CachedImage;
  readonly build: CachedImage;
  /** The Node.js version both carry. */
  readonly nodeVersion: string;
}

/**
 * Makes (or finds in the cache) both bases. `busyboxDeb` gives the build base its shell; `npmDir` is this machine's
 * npm package directory.
 */
export async function nodeBaseImages(
  cacheDir: string,
  nodeBinary: string,
  busyboxDeb: string,
  npmDir: string,
): Promise<NodeBaseImages> {
  const { stdout } = await run(nodeBinary, ["--version"]);
  const nodeVersion = stdout.trim();
  const npmVersion = (JSON.parse(await readFile(join(npmDir, "package.json"), "utf8")) as { version?: unknown }).version;
  if (typeof npmVersion !== "string") throw new ControlPlaneError("NODE_SETUP_FAILED", `no npm version in ${npmDir}`);
  const tag = tagOf(nodeVersion);
  const runtime = await cachedArchive(
    cacheDir,
    `tessera-node-runtime-${tag}.tar`,
    `localhost/tessera-node-runtime:${tag}`,
    { entrypoint: [NODE_IN_IMAGE], user: "65532:65532", workingDir: "/home/nonroot" },
    (rootfs) => fillRuntimeRootfs(rootfs, nodeBinary),
  );
  const buildTag = tagOf(`${nodeVersion}-npm${npmVersion}`);
  const build = await cachedArchive(
    cacheDir,
    `tessera-node-build-${buildTag}.tar`,
    `localhost/tessera-node-build:${buildTag}`,
    {
      cmd: [NODE_IN_IMAGE],
      workingDir: "/",
      // npm resolves every package from the machine's npm cache, mounted at /npm-cache during the build: the
      // build makes no network traffic (the published build base fetches from the registry instead).
      env: ["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/root", `npm_config_cache=${NPM_CACHE_IN_BUILD}`, "npm_config_offline=true"],
    },
    async (rootfs) => {
      await fillRuntimeRootfs(rootfs, nodeBinary);
      await run("dpkg-deb", ["-x", busyboxDeb, rootfs]);
      // Every busybox applet on PATH: RUN needs /bin/sh, npm's scripts sh, npm's bin stubs /usr/bin/env.
      const { stdout: applets } = await run(join(rootfs, "bin/busybox"), ["--list"]);
      for (const applet of applets.split("\n").filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== "busybox")) {
        await symlink("/bin/busybox", join(rootfs, "bin", applet)).catch(() => undefined);
      }
      await mkdir(join(rootfs, "usr/bin"), { recursive: true });
      await symlink("/bin/busybox", join(rootfs, "usr/bin/env")).catch(() => undefined);
      await mkdir(join(rootfs, "usr/local/lib/node_modules"), { recursive: true });
      await run("cp", ["-a", npmDir, join(rootfs, "usr/local/lib/node_modules/npm")]);
      await symlink("../lib/node_modules/npm/bin/npm-cli.js", join(rootfs, "usr/local/bin/npm"));
      await symlink("../lib/node_modules/npm/bin/npx-cli.js", join(rootfs, "usr/local/bin/npx"));
    },
  );
  return { runtime, build, nodeVersion };
}
