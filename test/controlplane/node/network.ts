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
