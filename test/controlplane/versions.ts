// Pinned versions of the control plane binaries and where each one is built from.

/** kube-apiserver version; must match the staging pins in kube-apiserver/go.mod. */
export const KUBE_VERSION = "v1.34.3";
/** etcd version; must match the pin in etcd/go.mod. */
export const ETCD_VERSION = "v3.6.4";
/** helm version, installed straight from its module (it has no replace directives). */
export const HELM_VERSION = "v3.19.5";
/**
 * Prometheus' module version for promtool (the chart's alert tests). Prometheus 3.x publishes its Go module as
 * v0.3MM.P for release 3.MM.P; like helm it has no replace directives, so it installs straight from its module.
 */
export const PROMETHEUS_MODULE_VERSION = "v0.316.0";

export type BinaryName = "kube-apiserver" | "etcd" | "helm" | "promtool";

/** Prometheus' release version (3.16.0) from its module version (v0.316.0), for `promtool --version`. */
function prometheusRelease(moduleVersion: string): string {
  const m = /^v0\.3(\d\d)\.(\d+)$/.exec(moduleVersion);
  return m === null ? moduleVersion : `3.${String(Number(m[1]))}.${m[2] ?? "0"}`;
}

/** How one binary is built: either from a helper module in this directory, or `go install pkg@version`. */
export interface BinarySpec {
  readonly name: BinaryName;
  readonly version: string;
  /** Helper module directory (relative to test/controlplane/) when built from one. */
  readonly moduleDir?: string;
  /** Go package to build. */
  readonly goPackage: string;
  readonly ldflags: string;
}

const kubeMinor = /^v1\.(\d+)\./.exec(KUBE_VERSION)?.[1] ?? "0";

export const BINARIES: Readonly<Record<BinaryName, BinarySpec>> = Object.freeze({
  "kube-apiserver": {
    name: "kube-apiserver",
    version: KUBE_VERSION,
    moduleDir: "kube-apiserver",
    goPackage: "k8s.io/kubernetes/cmd/kube-apiserver",
    // Without these, /version reports v0.0.0-master and version-gated clients misbehave.
    ldflags: [
      "-s -w",
      `-X k8s.io/component-base/version.gitVersion=${KUBE_VERSION}`,
      "-X k8s.io/component-base/version.gitMajor=1",
      `-X k8s.io/component-base/version.gitMinor=${kubeMinor}`,
    ].join(" "),
  },
  etcd: {
    name: "etcd",
    version: ETCD_VERSION,
    moduleDir: "etcd",
    goPackage: "go.etcd.io/etcd/server/v3",
    ldflags: "-s -w",
  },
  helm: {
    name: "helm",
    version: HELM_VERSION,
    goPackage: "helm.sh/helm/v3/cmd/helm",
    // `go install` leaves `helm version` at the bare minor ("v3.19"); stamp the full version.
    ldflags: `-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}`,
  },
  promtool: {
    name: "promtool",
    version: PROMETHEUS_MODULE_VERSION,
    goPackage: "github.com/prometheus/prometheus/cmd/promtool",
    ldflags: `-s -w -X github.com/prometheus/common/version.Version=${prometheusRelease(PROMETHEUS_MODULE_VERSION)}`,
  },
});

/** File name of a built binary inside the cache's bin directory, keyed by version. */
export function binaryFileName(spec: BinarySpec): string {
  return `${spec.name}-${spec.version}`;
}
