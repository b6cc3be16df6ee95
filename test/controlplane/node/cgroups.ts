// The kubelet's cgroups (kubepods and the pod cgroups below it, in every hierarchy): removed on teardown when the
// kubelet created them, deepest first; a cgroup directory goes with rmdir once no process is left in it.
import { readdir, rmdir, stat } from "node:fs/promises";
import { join } from "node:path";

const CGROUP_ROOT = "/sys/fs/cgroup";
const KUBELET_CGROUP = "kubepods";

/** The kubepods directory of every mounted hierarchy (cgroup v1 controllers and the unified one). */
export async function kubeletCgroupDirs(root: string = CGROUP_ROOT): Promise<string[]> {
  const dirs: string[] = [];
  const candidates = [join(root, KUBELET_CGROUP)];
  for (const entry of await readdir(root).catch(() => [])) candidates.push(join(root, entry, KUBELET_CGROUP));
  for (const dir of candidates) {
    if ((await stat(dir).catch(() => undefined))?.isDirectory() === true) dirs.push(dir);
  }
  return dirs;
}

async function subdirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
}

/** Removes `dir` and every cgroup below it, children first; returns the ones that would not go (still in use). */
export async function removeCgroupTree(dir: string): Promise<string[]> {
  const left: string[] = [];
  for (const child of await subdirs(dir)) left.push(...(await removeCgroupTree(child)));
  try {
    await rmdir(dir);
  } catch {
    left.push(dir);
  }
  return left;
}
