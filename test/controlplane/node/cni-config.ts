// The pod network's CNI configuration (pure): the bridge plugin on the node's private bridge, addresses from
// host-local IPAM, and no masquerade, so a pod reaches only the node and other pods on this machine.
import { NODE_NETWORK } from "./layout.ts";
import { SERVICE_CIDR } from "../args.ts";

export interface CniConfigParams {
  /** host-local's state directory (kept in the node's scratch directory, not /var/lib/cni). */
  readonly ipamDataDir: string;
}

export function renderCniConfig(p: CniConfigParams): string {
  return `${JSON.stringify(
    {
      cniVersion: "0.4.0",
      name: NODE_NETWORK.cniNetwork,
      plugins: [
        {
          type: "bridge",
          bridge: NODE_NETWORK.bridge,
          // The bridge carries the gateway address already; the plugin must not add a default route or NAT.
          isGateway: false,
          isDefaultGateway: false,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: "host-local",
            ranges: [[{ subnet: NODE_NETWORK.podCidr, gateway: NODE_NETWORK.gateway }]],
            // Only the Service range goes through the node (kube-proxy's rules); there is no default route, so
            // nothing a pod sends can leave this machine.
            routes: [{ dst: SERVICE_CIDR, gw: NODE_NETWORK.gateway }],
            dataDir: p.ipamDataDir,
          },
        },
      ],
    },
    null,
    2,
  )}\n`;
}
