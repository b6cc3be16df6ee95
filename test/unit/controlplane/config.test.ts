// Where the control plane's binaries are cached.
import { homedir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { binaryPaths } from "../../controlplane/build.ts";
import { loadControlPlaneConfig } from "../../controlplane/config.ts";

describe("loadControlPlaneConfig", () => {
  it.each([
    ["TESSERA_CACHE_DIR wins", { TESSERA_CACHE_DIR: "/cache/t", XDG_CACHE_HOME: "/xdg" }, "/cache/t"],
    ["XDG_CACHE_HOME comes next", { XDG_CACHE_HOME: "/xdg" }, "/xdg/tessera"],
    ["~/.cache/tessera is the default", {}, join(homedir(), ".cache", "tessera")],
    ["an empty TESSERA_CACHE_DIR counts as unset", { TESSERA_CACHE_DIR: "" }, join(homedir(), ".cache", "tessera")],
  ])("%s", (_name, env, expected) => {
    expect(loadControlPlaneConfig(env).cacheDir).toBe(expected);
  });

  it("keys every binary by its version", () => {
    expect(binaryPaths("/c")).toEqual({
      "kube-apiserver": "/c/bin/kube-apiserver-v1.34.3",
      etcd: "/c/bin/etcd-v3.6.4",
      helm: "/c/bin/helm-v3.19.5",
      kubelet: "/c/bin/kubelet-v1.34.3",
      "kube-controller-manager": "/c/bin/kube-controller-manager-v1.34.3",
      "kube-scheduler": "/c/bin/kube-scheduler-v1.34.3",
      kubectl: "/c/bin/kubectl-v1.34.3",
      "kube-proxy": "/c/bin/kube-proxy-v1.34.3",
      coredns: "/c/bin/coredns-v1.12.4",
      pause: "/c/bin/pause-v1",
      promtool: "/c/bin/promtool-v0.316.0",
    });
  });
});
