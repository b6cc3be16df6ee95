// containerd's configuration for the node tier (pure): its own root, state and socket, the CRI plugin set up for a
// kubelet using the cgroupfs driver, and CNI from Debian's plugins with this node's config directory.
import { CNI_BIN_DIR } from "./packages.ts";
import type { NodeLayout } from "./layout.ts";

export interface ContainerdConfigParams {
  readonly layout: NodeLayout;
  /** Image of every pod sandbox, imported beforehand (there is no registry to pull it from). */
  readonly sandboxImage: string;
}

/** TOML strings are JSON strings for the characters paths and image names use. */
const q = (value: string): string => JSON.stringify(value);

export function renderContainerdConfig(p: ContainerdConfigParams): string {
  const { layout } = p;
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return [
    "version = 2",
    `root = ${q(layout.containerdRoot)}`,
    `state = ${q(layout.containerdState)}`,
    // Snapshotters this machine cannot use would only log errors at every start.
    'disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]',
    "",
    "[grpc]",
    `  address = ${q(layout.containerdSocket)}`,
    "",
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${q(`${layout.containerdRoot}/opt`)}`,
    "",
    `[${cri}]`,
    `  sandbox_image = ${q(p.sandboxImage)}`,
    // Root here may lack CAP_SYS_RESOURCE: a negative oom_score_adj would make runc fail to create every sandbox.
    "  restrict_oom_score_adj = true",
    "  disable_apparmor = true",
    // exec/attach/port-forward streams stay on loopback (the apiserver reaches them through the kubelet).
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    "",
    `[${cri}.containerd]`,
    '  snapshotter = "overlayfs"',
    '  default_runtime_name = "runc"',
    "",
    `[${cri}.containerd.runtimes.runc]`,
    '  runtime_type = "io.containerd.runc.v2"',
    "",
    `[${cri}.containerd.runtimes.runc.options]`,
    // No systemd here: the kubelet and runc both use cgroupfs.
    "  SystemdCgroup = false",
    `  Root = ${q(layout.runcRoot)}`,
    "",
    `[${cri}.cni]`,
    `  bin_dir = ${q(CNI_BIN_DIR)}`,
    `  conf_dir = ${q(layout.cniConfDir)}`,
    "  max_conf_num = 1",
    "",
  ].join("\n");
}
