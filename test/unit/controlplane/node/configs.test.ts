// The node tier's configuration files and command lines: what keeps its traffic on this machine and its runtime
// working without systemd or CAP_SYS_RESOURCE.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { apiserverArgs } from "../../../controlplane/args.ts";
import { renderCniConfig } from "../../../controlplane/node/cni-config.ts";
import { renderContainerdConfig } from "../../../controlplane/node/containerd-config.ts";
import { controllerManagerArgs } from "../../../controlplane/node/controllers-args.ts";
import { imageConfigJson, ociArchitecture } from "../../../controlplane/node/image-archive.ts";
import { tagOf } from "../../../controlplane/node/images.ts";
import { kubeletArgs, renderKubeletConfig } from "../../../controlplane/node/kubelet-config.ts";
import { nodeLayout } from "../../../controlplane/node/layout.ts";
import { mountsUnder, parseMountPoints } from "../../../controlplane/node/mounts.ts";

const layout = nodeLayout("/tmp/n");

describe("the kubelet's configuration", () => {
  const config = parse(
    renderKubeletConfig({
      layout,
      nodeName: "n1",
      nodeIp: "10.244.0.1",
      port: 10250,
      healthzPort: 10248,
      clientCaFile: "/ca.pem",
      tlsCertFile: "/k.crt",
      tlsPrivateKeyFile: "/k.key",
    }),
  ) as Record<string, unknown>;

  it.each([
    ["serves its API on the node address only", "address", "10.244.0.1"],
    ["keeps /healthz on loopback", "healthzBindAddress", "127.0.0.1"],
    ["has no unauthenticated read-only port", "readOnlyPort", 0],
    ["uses the cgroupfs driver (no systemd, and containerd 1.6 cannot report one)", "cgroupDriver", "cgroupfs"],
    ["talks to the node's own containerd socket", "containerRuntimeEndpoint", "unix:///tmp/n/containerd/c.sock"],
    ["gives pods none of the host's resolvers", "resolvConf", ""],
    ["leaves iptables to kube-proxy", "makeIPTablesUtilChains", false],
  ])("%s", (_name, key, value) => {
    expect(config[key]).toEqual(value);
  });

  it("authenticates callers by the cluster CA or a TokenReview and authorizes them by the apiserver", () => {
    expect(config["authentication"]).toEqual({
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: "/ca.pem" },
    });
    expect(config["authorization"]).toEqual({ mode: "Webhook" });
  });

  it("names the node and its address on the command line", () => {
    const args = kubeletArgs({ layout, nodeName: "n1", nodeIp: "10.244.0.1" });
    expect(args).toContain("--hostname-override=n1");
    expect(args).toContain("--node-ip=10.244.0.1");
  });
});

describe("containerd's configuration", () => {
  const toml = renderContainerdConfig({ layout, sandboxImage: "localhost/tessera-pause:v1" });

  it.each([
    ["keeps its socket in the node's directory", 'address = "/tmp/n/containerd/c.sock"'],
    ["uses the locally imported sandbox image", 'sandbox_image = "localhost/tessera-pause:v1"'],
    ["never asks runc for a negative oom_score_adj", "restrict_oom_score_adj = true"],
    ["runs runc with cgroupfs", "SystemdCgroup = false"],
    ["serves exec and attach streams on loopback", 'stream_server_address = "127.0.0.1"'],
    ["reads CNI configuration from the node's directory", 'conf_dir = "/tmp/n/cni/net.d"'],
  ])("%s", (_name, line) => {
    expect(toml).toContain(line);
  });
});

describe("the pod network", () => {
  const conf = JSON.parse(renderCniConfig({ ipamDataDir: "/tmp/n/cni/ipam" })) as {
    plugins: { type: string; ipMasq?: boolean; isDefaultGateway?: boolean; ipam?: { routes?: unknown[] } }[];
  };
  const bridge = conf.plugins.find((p) => p.type === "bridge");

  it("masquerades nothing and gives pods no default route, so nothing leaves the machine", () => {
    expect(bridge?.ipMasq).toBe(false);
    expect(bridge?.isDefaultGateway).toBe(false);
    expect(bridge?.ipam?.routes).toEqual([{ dst: "10.0.0.0/24", gw: "10.244.0.1" }]);
  });
});

describe("the apiserver of a cluster with nodes", () => {
  const args = apiserverArgs({
    etcdUrl: "http://127.0.0.1:2379",
    securePort: 6443,
    bindAddress: "10.244.0.1",
    nodes: { kubeletClientCertFile: "/c.crt", kubeletClientKeyFile: "/c.key", kubeletCaFile: "/ca.pem" },
    certDir: "/x",
    servingCertFile: "/s.crt",
    servingKeyFile: "/s.key",
    clientCaFile: "/ca.pem",
    saPublicKeyFile: "/sa.pub",
    saPrivateKeyFile: "/sa.key",
    extraAudiences: [],
    extraArgs: [],
  });

  it.each([
    ["binds the node's bridge address", "--bind-address=10.244.0.1"],
    ["issues tokens under the address pods dial", "--service-account-issuer=https://10.244.0.1:6443"],
    ["authorizes kubelets with the Node authorizer", "--authorization-mode=Node,RBAC"],
    ["restricts kubelets to their own objects", "--enable-admission-plugins=NodeRestriction"],
    ["verifies the kubelet's serving certificate", "--kubelet-certificate-authority=/ca.pem"],
  ])("%s", (_name, flag) => {
    expect(args).toContain(flag);
  });

  it("keeps the ServiceAccount admission plugin, since a controller-manager makes default ServiceAccounts", () => {
    expect(args.some((a) => a.startsWith("--disable-admission-plugins"))).toBe(false);
  });

  it("has the controller-manager act as each controller's ServiceAccount", () => {
    const cm = controllerManagerArgs({
      kubeconfig: "/k",
      securePort: 1,
      servingCertFile: "/s",
      servingKeyFile: "/k",
      caCertFile: "/ca",
      caKeyFile: "/cak",
      saPrivateKeyFile: "/sa",
    });
    expect(cm).toContain("--use-service-account-credentials=true");
    expect(cm).toContain("--bind-address=127.0.0.1");
  });
});

describe("mounts below the node's directory", () => {
  const mountinfo = [
    "22 1 8:1 / / rw - ext4 /dev/vda rw",
    "90 22 0:50 / /tmp/n/kubelet/root/pods/a/volumes/x rw - tmpfs tmpfs rw",
    "91 22 0:51 / /tmp/n/containerd/state/run/c1/rootfs rw - overlay overlay rw",
    "92 22 0:52 / /tmp/n2/other rw - tmpfs tmpfs rw",
    "93 22 0:53 / /tmp/n/with\\040space rw - tmpfs tmpfs rw",
  ].join("\n");

  it("are found deepest first, escapes decoded, a sibling directory with the same prefix left alone", () => {
    expect(mountsUnder(parseMountPoints(mountinfo), "/tmp/n")).toEqual([
      "/tmp/n/kubelet/root/pods/a/volumes/x",
      "/tmp/n/containerd/state/run/c1/rootfs",
      "/tmp/n/with space",
    ]);
  });
});

describe("image archives", () => {
  it("carry the entrypoint, user and layer digest in the image config", () => {
    const config = JSON.parse(imageConfigJson({ entrypoint: ["/pause"], user: "65535" }, "sha256:ab", "amd64")) as {
      config: { Entrypoint: string[]; User: string };
      rootfs: { diff_ids: string[] };
    };
    expect(config.config.Entrypoint).toEqual(["/pause"]);
    expect(config.config.User).toBe("65535");
    expect(config.rootfs.diff_ids).toEqual(["sha256:ab"]);
  });

  it.each([
    ["names x64 as amd64", "x64", "amd64"],
    ["keeps arm64", "arm64", "arm64"],
  ])("%s", (_name, arch, expected) => {
    expect(ociArchitecture(arch)).toBe(expected);
  });

  it("turns a Debian version into a valid tag", () => {
    expect(tagOf("1:1.35.0-4+b3")).toBe("1-1.35.0-4-b3");
  });
});
