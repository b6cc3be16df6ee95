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

/** CoreDNS version of the node tier's cluster DNS; must match the pin in coredns/go.mod. */
export const COREDNS_VERSION = "v1.12.4";
/** Version of the node tier's pause program (test/controlplane/pause); bump it when its source changes. */
export const PAUSE_VERSION = "v1";

export type BinaryName =
  | "kube-apiserver"
  | "etcd"
  | "helm"
  | "kubelet"
  | "kube-controller-manager"
  | "kube-scheduler"
  | "kube-proxy"
  | "coredns"
  | "pause"
  | "kubectl"
  | "promtool";

/** What the integration tests, the demo and the bench need: a control plane without nodes. */
export const CONTROL_PLANE_BINARIES: readonly BinaryName[] = Object.freeze(["kube-apiserver", "etcd", "helm"]);
/** What the integration tests need besides: promtool for the chart's alerts (the demo and the bench do not). */
export const CHECK_BINARIES: readonly BinaryName[] = Object.freeze(["promtool"]);
/**
 * What the node tier needs on top: a kubelet, the controllers a cluster relies on, Services (kube-proxy) and their
 * names (CoreDNS), the sandbox's pause program, and kubectl for the image the CI deploy example's Job runs.
 */
export const NODE_BINARIES: readonly BinaryName[] = Object.freeze([
  "kubelet",
  "kube-controller-manager",
  "kube-scheduler",
  "kube-proxy",
  "coredns",
  "pause",
  "kubectl",
]);

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
  /** Go build tags, when the binary is built with some. */
  readonly tags?: string;
}

const kubeMinor = /^v1\.(\d+)\./.exec(KUBE_VERSION)?.[1] ?? "0";

// Without these, /version reports v0.0.0-master and version-gated clients misbehave (the kubelet reports it too).
const KUBE_LDFLAGS = [
  "-s -w",
  `-X k8s.io/component-base/version.gitVersion=${KUBE_VERSION}`,
  "-X k8s.io/component-base/version.gitMajor=1",
  `-X k8s.io/component-base/version.gitMinor=${kubeMinor}`,
].join(" ");

/** A Kubernetes program built from the one helper module that pins k8s.io/kubernetes (kube-apiserver/go.mod). */
function kubernetesBinary(name: BinaryName): BinarySpec {
  return {
    name,
    version: KUBE_VERSION,
    moduleDir: "kube-apiserver",
    goPackage: `k8s.io/kubernetes/cmd/${name}`,
    ldflags: KUBE_LDFLAGS,
  };
}

export const BINARIES: Readonly<Record<BinaryName, BinarySpec>> = Object.freeze({
  "kube-apiserver": kubernetesBinary("kube-apiserver"),
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
  kubelet: kubernetesBinary("kubelet"),
  "kube-controller-manager": kubernetesBinary("kube-controller-manager"),
  "kube-scheduler": kubernetesBinary("kube-scheduler"),
  "kube-proxy": kubernetesBinary("kube-proxy"),
  kubectl: kubernetesBinary("kubectl"),
  coredns: {
    name: "coredns",
    version: COREDNS_VERSION,
    moduleDir: "coredns",
    goPackage: "tessera.dev/test/controlplane/coredns",
    ldflags: "-s -w",
  },
  pause: {
    name: "pause",
    version: PAUSE_VERSION,
    moduleDir: "pause",
    goPackage: "tessera.dev/test/controlplane/pause",
    ldflags: "-s -w",
  },
  promtool: {
    name: "promtool",
    version: PROMETHEUS_MODULE_VERSION,
    goPackage: "github.com/prometheus/prometheus/cmd/promtool",
    // The rule checks need no service discovery; without its cloud clients a cold build downloads and compiles a
    // fraction of the modules (development.md has the figures).
    tags: "remove_all_sd",
    ldflags: `-s -w -X github.com/prometheus/common/version.Version=${prometheusRelease(PROMETHEUS_MODULE_VERSION)}`,
  },
});

/** File name of a built binary inside the cache's bin directory, keyed by version. */
export function binaryFileName(spec: BinarySpec): string {
  return `${spec.name}-${spec.version}`;
}
