// What containerd leaves running after it stops: its shims (one per pod sandbox) and their containers. Found by
// the node's own containerd socket on their command lines, so only this node's processes are ever signalled.
import { readdir, readFile } from "node:fs/promises";
import { run } from "./run.ts";

/** Pids of processes whose command line names `socket` (containerd-shim-runc-v2 ... -address SOCKET). */
export async function shimPids(socket: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = (await readFile(`/proc/${entry}/cmdline`, "utf8")).split("\0");
      if (argv.some((arg) => arg === socket) && argv.some((arg) => arg.includes("containerd-shim"))) {
        pids.push(Number(entry));
      }
    } catch {
      // Ended meanwhile.
    }
  }
  return pids;
}

const ctr = (socket: string, args: readonly string[]): Promise<{ stdout: string }> =>
  run("ctr", ["--address", socket, "--namespace", "k8s.io", ...args], { code: "TEARDOWN_INCOMPLETE" });

/** Ids of the tasks (running containers and sandboxes) containerd knows. */
export async function taskIds(socket: string): Promise<string[]> {
  const { stdout } = await ctr(socket, ["tasks", "list", "--quiet"]);
  return stdout.split("\n").filter((line) => line.trim() !== "");
}

/** Kills and deletes every task: the last resort when the kubelet did not stop its pods. */
export async function killAllTasks(socket: string): Promise<void> {
  for (const id of await taskIds(socket)) {
    await ctr(socket, ["tasks", "kill", "--all", "--signal", "SIGKILL", id]).catch(() => undefined);
  }
  for (const id of await taskIds(socket).catch(() => [])) {
    await ctr(socket, ["tasks", "delete", "--force", id]).catch(() => undefined);
  }
}
