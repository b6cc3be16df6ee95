// Makes sure the container runtime the node tier needs is installed: containerd, runc and the CNI plugins, from
// Debian's packages, installed only when missing (root only: the tier refuses to run without it anyway).
import { access, constants } from "node:fs/promises";
import { ControlPlaneError } from "../errors.ts";
import { run } from "./run.ts";

/** Where Debian's containernetworking-plugins puts the plugins. */
export const CNI_BIN_DIR = "/usr/lib/cni";

/** A program (or plugin) the tier runs, and the Debian package that provides it. */
export interface PackagedFile {
  readonly path: string;
  readonly debianPackage: string;
}

export const RUNTIME_FILES: readonly PackagedFile[] = [
  { path: "/usr/bin/containerd", debianPackage: "containerd" },
  { path: "/usr/bin/containerd-shim-runc-v2", debianPackage: "containerd" },
  { path: "/usr/bin/ctr", debianPackage: "containerd" },
  { path: "/usr/sbin/runc", debianPackage: "runc" },
  { path: `${CNI_BIN_DIR}/bridge`, debianPackage: "containernetworking-plugins" },
  { path: `${CNI_BIN_DIR}/host-local`, debianPackage: "containernetworking-plugins" },
  { path: `${CNI_BIN_DIR}/loopback`, debianPackage: "containernetworking-plugins" },
  // kube-proxy programs Services with iptables; Debian's iptables brings the nftables-backed one.
  { path: "/usr/sbin/iptables", debianPackage: "iptables" },
];

/** What building Tessera's images from its Dockerfile needs (without a Docker daemon). */
export const IMAGE_BUILD_FILES: readonly PackagedFile[] = [{ path: "/usr/bin/buildah", debianPackage: "buildah" }];

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Debian packages whose files are missing, each named once. */
export async function missingPackages(files: readonly PackagedFile[]): Promise<string[]> {
  const missing = new Set<string>();
  for (const file of files) {
    if (!(await exists(file.path))) missing.add(file.debianPackage);
  }
  return [...missing];
}

/** Installs whatever is missing with apt-get (non-interactive); the package lists are refreshed first. */
export async function ensurePackages(files: readonly PackagedFile[], log: (line: string) => void): Promise<void> {
  const missing = await missingPackages(files);
  if (missing.length === 0) return;
  log(`installing ${missing.join(", ")} from Debian's packages (once per machine)`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const started = Date.now();
  await run("apt-get", ["update", "-qq"], { env, timeoutMs: 600_000, code: "PACKAGES_FAILED" });
  // --no-install-recommends: no system service setup beyond what the packages need; the tier starts its own.
  await run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], {
    env,
    timeoutMs: 900_000,
    code: "PACKAGES_FAILED",
  });
  const still = await missingPackages(files);
  if (still.length > 0) {
    throw new ControlPlaneError("PACKAGES_FAILED", `installed, yet still missing files of: ${still.join(", ")}`);
  }
  log(`installed ${missing.join(", ")} in ${Math.round((Date.now() - started) / 1000)} s`);
}
