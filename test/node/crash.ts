// Crashes a container on the node the way the kernel ends a process (SIGKILL, no chance to clean up): its processes
// are found by the container's cgroup, which the kubelet names after the container ID with the cgroupfs driver.
import { readdir, readFile } from "node:fs/promises";

/** The runtime's container ID from a container status's `containerID` ("containerd://<id>"). */
export function runtimeContainerId(statusId: string | undefined): string {
  const id = statusId?.replace(/^[a-z]+:\/\//, "") ?? "";
  if (!/^[0-9a-f]{64}$/.test(id)) throw new Error(`not a container ID: ${statusId ?? "(none)"}`);
  return id;
}

/** Host PIDs of every process in the container's cgroup (the kubelet puts each container in .../pod<uid>/<id>). */
export async function containerPids(containerId: string, procDir = "/proc"): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir(procDir)) {
    if (!/^\d+$/.test(entry)) continue;
    const cgroups = await readFile(`${procDir}/${entry}/cgroup`, "utf8").catch(() => "");
    if (cgroups.split("\n").some((line) => line.endsWith(`/${containerId}`))) pids.push(Number(entry));
  }
  return pids;
}

/**
 * SIGKILLs every process of the container at once, as an out-of-memory kill or a node-level crash would: no
 * SIGTERM, so the controller cannot release its Lease or close its connections. Returns the PIDs killed.
 */
export async function crashContainer(containerId: string): Promise<number[]> {
  const pids = await containerPids(containerId);
  if (pids.length === 0) throw new Error(`no process of container ${containerId.slice(0, 12)} is running on this machine`);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch (err) {
      // Already gone (the kernel ended it with its namespace's first process): that is the crash we wanted.
      if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
    }
  }
  return pids;
}
