// The node's private bridge: created before the apiserver binds to its address, deleted on teardown. It has no
// uplink and IP forwarding stays as it was, so pods reach the node and each other and nothing beyond.
import { ControlPlaneError } from "../errors.ts";
import { NODE_NETWORK } from "./layout.ts";
import { run } from "./run.ts";

async function linkExists(name: string): Promise<boolean> {
  try {
    await run("ip", ["link", "show", "dev", name]);
    return true;
  } catch {
    return false;
  }
}

/** Creates the bridge with the gateway address; a leftover of a killed run (we hold the node lock) is replaced. */
export async function createBridge(log: (line: string) => void): Promise<void> {
  const { bridge, gateway, prefixLength } = NODE_NETWORK;
  if (await linkExists(bridge)) {
    log(`removing bridge ${bridge} left by an earlier run`);
    await deleteBridge();
  }
  await run("ip", ["link", "add", "name", bridge, "type", "bridge"]);
  await run("ip", ["addr", "add", `${gateway}/${prefixLength}`, "dev", bridge]);
  await run("ip", ["link", "set", "dev", bridge, "up"]);
}

/** Marks the rule the tier adds to FORWARD, so teardown removes exactly it. */
const FORWARD_RULE = ["FORWARD", "-i", NODE_NETWORK.bridge, "!", "-o", NODE_NETWORK.bridge, "-m", "comment", "--comment", "tessera node tier: pods reach only the bridge", "-j", "DROP"];

/**
 * Lets the node route between its pods, which a Service's ClusterIP needs (kube-proxy rewrites the address to a
 * pod's on the same bridge): forwarding is switched on for packets arriving on the bridge only (the machine-wide
 * setting stays as it was), and a FORWARD rule drops anything from the bridge bound elsewhere.
 */
export async function enablePodRouting(): Promise<void> {
  await run("iptables", ["-I", ...FORWARD_RULE]);
  await run("sysctl", ["-q", "-w", `net.ipv4.conf.${NODE_NETWORK.bridge}.forwarding=1`]);
}

/** Removes the FORWARD rule (forwarding goes with the bridge); absent already is fine. */
export async function disablePodRouting(): Promise<void> {
  for (;;) {
    try {
      await run("iptables", ["-C", ...FORWARD_RULE]);
    } catch {
      return;
    }
    await run("iptables", ["-D", ...FORWARD_RULE], { code: "TEARDOWN_INCOMPLETE" });
  }
}

export async function deleteBridge(): Promise<void> {
  if (!(await linkExists(NODE_NETWORK.bridge))) return;
  await run("ip", ["link", "delete", "dev", NODE_NETWORK.bridge], { code: "TEARDOWN_INCOMPLETE" });
}

/** Fails when the pod network would overlap a route this machine already has (its own bridge excepted). */
export async function assertPodNetworkFree(): Promise<void> {
  const { stdout } = await run("ip", ["-4", "route", "show", "root", NODE_NETWORK.podCidr]);
  const foreign = stdout
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.includes(`dev ${NODE_NETWORK.bridge} `));
  if (foreign.length > 0) {
    throw new ControlPlaneError(
      "NODE_SETUP_FAILED",
      `the pod network ${NODE_NETWORK.podCidr} overlaps routes of this machine: ${foreign.join("; ")}`,
    );
  }
}

/** Chains kube-proxy's iptables mode creates that its --cleanup leaves behind, with the built-in chains jumping to them. */
const LEFTOVER_CHAINS: readonly { readonly chain: string; readonly jumpsFrom: readonly string[] }[] = [
  { chain: "KUBE-FIREWALL", jumpsFrom: ["INPUT", "OUTPUT"] },
];

async function chainExists(chain: string): Promise<boolean> {
  try {
    await run("iptables", ["-S", chain]);
    return true;
  } catch {
    return false;
  }
}

/** The leftover chains that exist now (recorded before the node starts, so teardown removes only new ones). */
export async function existingLeftoverChains(): Promise<Set<string>> {
  const present = new Set<string>();
  for (const { chain } of LEFTOVER_CHAINS) if (await chainExists(chain)) present.add(chain);
  return present;
}

/** Removes the leftover chains that did not exist before, jumps first. */
export async function removeNewLeftoverChains(before: ReadonlySet<string>): Promise<void> {
  for (const { chain, jumpsFrom } of LEFTOVER_CHAINS) {
    if (before.has(chain) || !(await chainExists(chain))) continue;
    for (const from of jumpsFrom) {
      while (await run("iptables", ["-D", from, "-j", chain]).then(() => true, () => false)) {
        // Each call removes one jump; repeat until none is left.
      }
    }
    await run("iptables", ["-F", chain], { code: "TEARDOWN_INCOMPLETE" });
    await run("iptables", ["-X", chain], { code: "TEARDOWN_INCOMPLETE" });
  }
}
