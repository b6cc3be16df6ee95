// Finds and removes the mounts the kubelet and containerd leave under the node's scratch directory (projected
// volumes are tmpfs mounts, container root filesystems overlay mounts), so the directory can be deleted safely.
import { readFile } from "node:fs/promises";
import { run } from "./run.ts";

/** Mount points in /proc/self/mountinfo text (pure); octal escapes such as \040 are decoded. */
export function parseMountPoints(mountinfo: string): string[] {
  return mountinfo
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((point): point is string => point !== undefined && point !== "")
    .map((point) => point.replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8))));
}

/** Mount points at or below `dir`, deepest first (so a parent is unmounted after what is mounted inside it). */
export function mountsUnder(points: readonly string[], dir: string): string[] {
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  return [...new Set(points.filter((p) => p === dir || p.startsWith(prefix)))].sort(
    (a, b) => b.split("/").length - a.split("/").length || b.length - a.length,
  );
}

export async function currentMountPoints(): Promise<string[]> {
  return parseMountPoints(await readFile("/proc/self/mountinfo", "utf8"));
}

/** Unmounts everything below `dir`; returns what is still mounted afterwards (empty when clean). */
export async function unmountUnder(dir: string): Promise<string[]> {
  for (const point of mountsUnder(await currentMountPoints(), dir)) {
    try {
      await run("umount", [point]);
    } catch {
      // Busy (a process still holds it): detach it, the kernel frees it once the last user is gone.
      await run("umount", ["--lazy", point]).catch(() => undefined);
    }
  }
  return mountsUnder(await currentMountPoints(), dir);
}
