// Kernel settings the kubelet changes at start (it sets them for the whole machine): recorded before it starts and
// written back on teardown.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * What the kubelet's container manager sets (pkg/kubelet/cm: setupKernelTunables, and the keys quotas), and what
 * kube-proxy's iptables mode sets (route_localnet, for NodePorts on loopback).
 */
export const NODE_SYSCTLS: readonly string[] = Object.freeze([
  "net.ipv4.conf.all.route_localnet",
  "vm.overcommit_memory",
  "vm.panic_on_oom",
  "kernel.panic",
  "kernel.panic_on_oops",
  "kernel.keys.root_maxkeys",
  "kernel.keys.root_maxbytes",
]);

export type SysctlSnapshot = ReadonlyMap<string, string>;

function sysctlPath(key: string): string {
  return join("/proc/sys", ...key.split("."));
}

/** Current values of `keys`; a key this kernel does not have is left out. */
export async function recordSysctls(keys: readonly string[] = NODE_SYSCTLS): Promise<SysctlSnapshot> {
  const values = new Map<string, string>();
  for (const key of keys) {
    try {
      values.set(key, (await readFile(sysctlPath(key), "utf8")).trim());
    } catch {
      // Not on this kernel: nothing to restore.
    }
  }
  return values;
}

/** Writes back every recorded value that changed; returns the keys it could not restore. */
export async function restoreSysctls(snapshot: SysctlSnapshot): Promise<string[]> {
  const failed: string[] = [];
  for (const [key, value] of snapshot) {
    try {
      const now = (await readFile(sysctlPath(key), "utf8")).trim();
      if (now !== value) await writeFile(sysctlPath(key), value);
    } catch {
      failed.push(key);
    }
  }
  return failed;
}
