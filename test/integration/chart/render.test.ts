// The Helm chart: lint, template for the default and non-default values, the real apiserver accepts every rendered set
// (server dry-run), the schema refuses typos, and the rendered RBAC, webhooks and env agree with the controller's code.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { renderWebhookConfigurations } from "../../../controller/src/admission/webhook-config.ts";
import { parseConfig } from "../../../controller/src/config.ts";
import { applyObject, loadManifestDir, waitForCrdsEstablished } from "../../controlplane/manifests.ts";
import { applyCrds, freshNamespace, kubeClients, REPO_ROOT } from "../support/index.ts";
import { dryRunApply, findObject, installDryRun, kubectl, lintChart, parseRendered, renderChart, renderChartText, type Rendered, type RenderOptions } from "./chart.ts";
import { grantsOf } from "./grants.ts";

const SERVICE_MONITOR_API = "monitoring.coreos.com/v1/ServiceMonitor";
const MONITORING_APIS = [SERVICE_MONITOR_API, "monitoring.coreos.com/v1/PodMonitor", "monitoring.coreos.com/v1/PrometheusRule"];

/** Grants of the default values (tokenreview mode, self-managed TLS). */
const DEFAULT_CLUSTER_GRANTS = [
  "create authentication.k8s.io/tokenreviews",
  "create configmaps",
  "create events",
  "get admissionregistration.k8s.io/mutatingwebhookconfigurations:tessera",
  "get admissionregistration.k8s.io/validatingwebhookconfigurations:tessera",
  "get configmaps:tessera-issuer-ca",
  "list namespaces",
  "list pods",
  "list tessera.dev/clustertokenpolicies",
  "list tessera.dev/tokenaudiences",
  "list tessera.dev/tokenpolicies",
  "patch admissionregistration.k8s.io/mutatingwebhookconfigurations:tessera",
  "patch admissionregistration.k8s.io/validatingwebhookconfigurations:tessera",
  "patch configmaps:tessera-issuer-ca",
  "patch tessera.dev/clustertokenpolicies/status",
  "patch tessera.dev/tokenaudiences/status",
  "patch tessera.dev/tokenpolicies/status",
  "watch namespaces",
  "watch pods",
  "watch tessera.dev/clustertokenpolicies",
  "watch tessera.dev/tokenaudiences",
  "watch tessera.dev/tokenpolicies",
];
const DEFAULT_NAMESPACE_GRANTS = [
  "create configmaps",
  "create coordination.k8s.io/leases",
  "create secrets",
  "get configmaps:tessera-revocations",
  "get coordination.k8s.io/leases:tessera-controller",
  "get secrets:tessera-signing-keys",
  "get secrets:tessera-webhook-tls",
  "list secrets",
  "update configmaps:tessera-revocations",
  "update coordination.k8s.io/leases:tessera-controller",
  "update secrets:tessera-signing-keys",
  "update secrets:tessera-webhook-tls",
  "watch secrets",
];
/** What publishing the issuer CA adds: create anywhere, read and patch only that one name, never list or watch. */
const ISSUER_CA_GRANTS = ["create configmaps", "get configmaps:tessera-issuer-ca", "patch configmaps:tessera-issuer-ca"];
const JWKS_GRANTS = ["get /.well-known/openid-configuration", "get /openid/v1/jwks"];

const without = (list: readonly string[], ...drop: readonly string[]): string[] => list.filter((g) => !drop.includes(g));
const sorted = (list: readonly string[]): string[] => [...list].sort();

interface Variant {
  readonly name: string;
  readonly values?: Record<string, unknown>;
  readonly apiVersions?: readonly string[];
  readonly clusterGrants: readonly string[];
  readonly namespaceGrants: readonly string[];
  /** Kinds that must be rendered, and kinds that must not. */
  readonly kinds: readonly string[];
  readonly absentKinds: readonly string[];
}

const BASE_KINDS = [
  "ServiceAccount",
  "ClusterRole",
  "ClusterRoleBinding",
  "Role",
  "RoleBinding",
  "Service",
  "Deployment",
  "PodDisruptionBudget",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
];

const VARIANTS: readonly Variant[] = [
  {
    name: "the default values",
    clusterGrants: DEFAULT_CLUSTER_GRANTS,
    namespaceGrants: DEFAULT_NAMESPACE_GRANTS,
    kinds: [...BASE_KINDS, "CustomResourceDefinition", "NetworkPolicy"],
    absentKinds: ["Certificate", "Issuer", "ServiceMonitor", "PodMonitor", "PrometheusRule", "ConfigMap"],
  },
  {
    name: "cert-manager TLS with the chart's own CA",
    values: { tls: { mode: "cert-manager" } },
    clusterGrants: DEFAULT_CLUSTER_GRANTS,
    namespaceGrants: without(DEFAULT_NAMESPACE_GRANTS, "update secrets:tessera-webhook-tls"),
    kinds: [...BASE_KINDS, "Certificate", "Issuer", "NetworkPolicy"],
    absentKinds: [],
  },
  {
    name: "cert-manager TLS from an existing ClusterIssuer",
    values: { tls: { mode: "cert-manager", certManager: { issuerRef: { name: "corp-ca", kind: "ClusterIssuer" } } } },
    clusterGrants: DEFAULT_CLUSTER_GRANTS,
    namespaceGrants: without(DEFAULT_NAMESPACE_GRANTS, "update secrets:tessera-webhook-tls"),
    kinds: [...BASE_KINDS, "Certificate"],
    absentKinds: ["Issuer"],
  },
  {
    name: "jwks verification without audit callers",
    values: { issuer: { subjectVerification: "jwks" } },
    clusterGrants: sorted([...without(DEFAULT_CLUSTER_GRANTS, "create authentication.k8s.io/tokenreviews"), ...JWKS_GRANTS]),
    namespaceGrants: DEFAULT_NAMESPACE_GRANTS,
    kinds: BASE_KINDS,
    absentKinds: [],
  },
  {
    name: "jwks verification with an introspection caller",
    values: { issuer: { subjectVerification: "jwks" }, audit: { introspectCallers: ["security/auditor"] } },
    clusterGrants: sorted([...DEFAULT_CLUSTER_GRANTS, ...JWKS_GRANTS]),
    namespaceGrants: DEFAULT_NAMESPACE_GRANTS,
    kinds: BASE_KINDS,
    absentKinds: [],
  },
  {
    name: "NetworkPolicy and ServiceMonitor on, three replicas, a public issuer URL, EdDSA keys, CRDs left to the operator",
    values: {
      controller: { replicas: 3 },
      issuer: { publicUrl: "https://tokens.example.com", signing: { algorithm: "EdDSA", rotationSeconds: 86400 }, maxTokenTtlSeconds: 86400 },
      networkPolicy: {
        enabled: true,
        apiserverCIDRs: ["172.18.0.2/32", "fd00::2/128"],
        issuerExtraFrom: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ledger" } } }],
        metricsFrom: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
      },
      serviceMonitor: { enabled: true, labels: { release: "prometheus" } },
      crds: { install: false },
    },
    apiVersions: [SERVICE_MONITOR_API],
    clusterGrants: DEFAULT_CLUSTER_GRANTS,
    namespaceGrants: DEFAULT_NAMESPACE_GRANTS,
    kinds: [...BASE_KINDS, "NetworkPolicy", "ServiceMonitor"],
    absentKinds: ["CustomResourceDefinition"],
  },
  {
    name: "issuer CA publishing off (the operator's tooling publishes it)",
    values: { sidecar: { publishIssuerCa: false } },
    clusterGrants: without(DEFAULT_CLUSTER_GRANTS, ...ISSUER_CA_GRANTS),
    namespaceGrants: DEFAULT_NAMESPACE_GRANTS,
    kinds: BASE_KINDS,
    absentKinds: [],
  },
  {
    name: "issuer CA published under another name",
    values: { sidecar: { issuerCaConfigMap: "corp-issuer-ca" } },
    clusterGrants: sorted([...without(DEFAULT_CLUSTER_GRANTS, ...ISSUER_CA_GRANTS), "create configmaps", "get configmaps:corp-issuer-ca", "patch configmaps:corp-issuer-ca"]),
    namespaceGrants: DEFAULT_NAMESPACE_GRANTS,
    kinds: BASE_KINDS,
    absentKinds: [],
  },
  {
    name: "the NetworkPolicy off and the sidecars' metrics port on",
    values: { networkPolicy: { enabled: false }, sidecar: { metricsPort: 9464 } },
    clusterGrants: DEFAULT_CLUSTER_GRANTS,
    namespaceGrants: DEFAULT_NAMESPACE_GRANTS,
    kinds: BASE_KINDS,
    absentKinds: ["NetworkPolicy"],
  },
  {
    name: "the monitoring kit on: ServiceMonitor, the sidecars' PodMonitor, the alerts and the dashboard",
    values: {
      sidecar: { metricsPort: 9464 },
      serviceMonitor: { enabled: true },
      podMonitor: { enabled: true, labels: { release: "prometheus" } },
      prometheusRule: { enabled: true, labels: { release: "prometheus" }, issuanceP99Seconds: 0.1 },
      dashboards: { enabled: true, annotations: { grafana_folder: "Tessera" } },
    },
    apiVersions: MONITORING_APIS,
    clusterGrants: DEFAULT_CLUSTER_GRANTS,
    namespaceGrants: DEFAULT_NAMESPACE_GRANTS,
    kinds: [...BASE_KINDS, "ServiceMonitor", "PodMonitor", "PrometheusRule", "ConfigMap"],
    absentKinds: [],
  },
  {
    name: "alerts and the PodMonitor asked for where the Prometheus operator is absent, the dashboard still rendered",
    values: { sidecar: { metricsPort: 9464 }, podMonitor: { enabled: true }, prometheusRule: { enabled: true }, dashboards: { enabled: true } },
    clusterGrants: DEFAULT_CLUSTER_GRANTS,
    namespaceGrants: DEFAULT_NAMESPACE_GRANTS,
    kinds: [...BASE_KINDS, "ConfigMap"],
    absentKinds: ["PodMonitor", "PrometheusRule"],
  },
  {
    name: "a ServiceMonitor asked for where the Prometheus operator is absent",
    values: { serviceMonitor: { enabled: true } },
    clusterGrants: DEFAULT_CLUSTER_GRANTS,
    namespaceGrants: DEFAULT_NAMESPACE_GRANTS,
    kinds: BASE_KINDS,
    absentKinds: ["ServiceMonitor"],
  },
];

/** The controller's env as the kubelet would resolve it for a pod named `podName`. */
function resolvedEnv(deployment: Rendered, namespace: string, podName: string): Record<string, string> {
  const spec = deployment["spec"] as { template: { spec: { containers: { env: { name: string; value?: string; valueFrom?: { fieldRef: { fieldPath: string } } }[] }[] } } };
  const env: Record<string, string> = {};
  for (const e of spec.template.spec.containers[0]?.env ?? []) {
    const field = e.valueFrom?.fieldRef.fieldPath;
    env[e.name] = field === "metadata.namespace" ? namespace : field === "metadata.name" ? podName : (e.value ?? "");
  }
  return env;
}

let ns: string;

function renderOptions(variant: Variant): RenderOptions {
  return { namespace: ns, ...(variant.values ? { values: variant.values } : {}), ...(variant.apiVersions ? { apiVersions: variant.apiVersions } : {}) };
}

/** The name `kubectl -o name` prints: kind (lowercase plural-less resource) and group, then the name. */
function kubectlName(o: Rendered): string {
  const group = o.apiVersion.includes("/") ? (o.apiVersion.split("/")[0] ?? "") : "";
  return `${o.kind.toLowerCase()}${group === "" ? "" : `.${group}`}/${o.metadata.name}`;
}

beforeAll(async () => {
  const clients = kubeClients();
  await applyCrds(clients);
  // The chart may render cert-manager and Prometheus operator objects: make their kinds exist (see the fixture).
  const stubs = await loadManifestDir(join(REPO_ROOT, "test", "fixtures", "chart"));
  for (const { object } of stubs) await applyObject(clients.kubeConfig, object);
  await waitForCrdsEstablished(clients.kubeConfig, stubs.map((s) => s.object.metadata?.name ?? ""));
  ns = await freshNamespace("tessera-chart");
});

describe("helm lint", () => {
  it.each(VARIANTS)("passes with $name", async ({ values }) => {
    const out = await lintChart(values);
    expect(out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });
});

describe("helm template", () => {
  it.each(VARIANTS)("renders the expected objects and exact RBAC with $name", async (variant) => {
    const objects = await renderChart(renderOptions(variant));
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of variant.kinds) expect(kinds, kind).toContain(kind);
    for (const kind of variant.absentKinds) expect(kinds, kind).not.toContain(kind);
    expect(grantsOf(findObject(objects, "ClusterRole"))).toEqual(sorted(variant.clusterGrants));
    expect(grantsOf(findObject(objects, "Role"))).toEqual(sorted(variant.namespaceGrants));
    // Never a Secret cluster-wide.
    expect(grantsOf(findObject(objects, "ClusterRole")).filter((g) => g.includes("secrets"))).toEqual([]);
  });

  it.each(VARIANTS)("renders a Deployment env the controller's config accepts with $name", async (variant) => {
    const objects = await renderChart(renderOptions(variant));
    const env = resolvedEnv(findObject(objects, "Deployment"), ns, "tessera-7d9f-abcde");
    const config = parseConfig([], { ...env, KUBERNETES_SERVICE_HOST: "10.0.0.1" });
    expect(config.namespace).toBe(ns);
    const issuer = (variant.values?.["issuer"] ?? {}) as { signing?: { algorithm?: string }; maxTokenTtlSeconds?: number };
    expect(config.signing.algorithm).toBe(issuer.signing?.algorithm ?? "ES256");
    expect(config.signing.maxTokenTtlSeconds).toBe(issuer.maxTokenTtlSeconds ?? 3600);
    expect(config.podName).toBe("tessera-7d9f-abcde");
    const sidecar = (variant.values?.["sidecar"] ?? {}) as { publishIssuerCa?: boolean; issuerCaConfigMap?: string; metricsPort?: number };
    expect(config.publishIssuerCa).toBe(sidecar.publishIssuerCa ?? true);
    expect(config.sidecarMetricsPort).toBe(sidecar.metricsPort);
    expect(config.issuerCaConfigMap).toBe(sidecar.issuerCaConfigMap ?? "tessera-issuer-ca");
    expect(config.tls.dnsNames).toEqual(expect.arrayContaining([`tessera.${ns}.svc`, `tessera-webhook.${ns}.svc`, new URL(config.issuerUrl).hostname]));
  });

  const INJECTED_PODS = [
    { namespaceSelector: {}, podSelector: { matchLabels: { "tessera.dev/inject": "enabled" } } },
    { namespaceSelector: { matchLabels: { "tessera.dev/inject": "enabled" } } },
  ];
  const LEDGER = { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ledger" } } };
  it.each([
    ["opens the issuer port to injected pods only and the webhook port to every source by default", {}, INJECTED_PODS, undefined],
    [
      "adds verifiers to the injected pods and opens the webhook port to the apiserver's addresses only",
      { issuerExtraFrom: [LEDGER], apiserverCIDRs: ["172.18.0.2/32"] },
      [...INJECTED_PODS, LEDGER],
      [{ ipBlock: { cidr: "172.18.0.2/32" } }],
    ],
    [
      "replaces the issuer peers and adds webhook peers after the apiserver's addresses",
      { issuerFrom: [LEDGER], apiserverCIDRs: ["10.0.0.0/28"], webhookFrom: [LEDGER] },
      [LEDGER],
      [{ ipBlock: { cidr: "10.0.0.0/28" } }, LEDGER],
    ],
  ])("%s", async (_name, networkPolicy, issuerFrom, webhookFrom) => {
    const policy = findObject(await renderChart({ namespace: ns, values: { networkPolicy } }), "NetworkPolicy");
    const ingress = (policy["spec"] as { ingress: { ports: { port: number }[]; from?: unknown[] }[] }).ingress;
    const rule = (port: number) => ingress.find((r) => r.ports.some((p) => p.port === port));
    expect(rule(8443)?.from).toEqual(issuerFrom);
    expect(rule(9443)).toBeDefined();
    expect(rule(9443)?.from).toEqual(webhookFrom);
    // Health and metrics stay closed to pods unless metricsFrom names some.
    expect(rule(8080)).toBeUndefined();
  });

  it("renders the webhook configurations in the shape the controller's own renderer produces", async () => {
    const objects = await renderChart({ namespace: ns });
    const expected = renderWebhookConfigurations({ target: { kind: "service", namespace: ns, name: "tessera-webhook", port: 443 }, tesseraNamespace: ns, caBundlePem: "" });
    expect(findObject(objects, "MutatingWebhookConfiguration")["webhooks"]).toEqual(expected.mutating.webhooks);
    expect(findObject(objects, "ValidatingWebhookConfiguration")["webhooks"]).toEqual(expected.validating.webhooks);
  });

  it("renders the CRDs exactly as crds/ holds them, annotated to be kept on uninstall", async () => {
    const objects = await renderChart({ namespace: ns });
    const crds = objects.filter((o) => o.kind === "CustomResourceDefinition");
    const dir = join(REPO_ROOT, "crds");
    const repo = (await Promise.all((await readdir(dir)).map(async (f) => parseRendered(await readFile(join(dir, f), "utf8"))))).flat();
    expect(crds.map((c) => c.metadata.name).sort()).toEqual(repo.map((c) => c.metadata.name).sort());
    for (const crd of crds) {
      expect(crd.metadata.annotations?.["helm.sh/resource-policy"]).toBe("keep");
      const { annotations, ...metadata } = crd.metadata;
      expect({ ...crd, metadata }).toEqual(repo.find((c) => c.metadata.name === crd.metadata.name));
      expect(annotations).toEqual({ "helm.sh/resource-policy": "keep" });
    }
    const unkept = await renderChart({ namespace: ns, values: { crds: { keep: false } } });
    expect(unkept.filter((o) => o.kind === "CustomResourceDefinition").map((c) => c.metadata.annotations)).toEqual([undefined, undefined, undefined]);
  });
});

describe("the real apiserver", () => {
  it.each(VARIANTS)("accepts every object rendered with $name (kubectl apply --dry-run=server)", async (variant) => {
    const text = await renderChartText(renderOptions(variant));
    const accepted = await dryRunApply(text);
    expect(accepted.sort()).toEqual(parseRendered(text).map(kubectlName).sort());
  });
});

describe("helm install --dry-run=server against the real apiserver", () => {
  // Other tests share this control plane and have applied the CRDs without Helm: leave them out here.
  it.each([
    { name: "self-managed TLS", values: { crds: { install: false } }, step: "creates its signing key and its serving certificate, and sets the webhooks' caBundle" },
    { name: "cert-manager TLS", values: { crds: { install: false }, tls: { mode: "cert-manager" } }, step: "serves once cert-manager has issued tessera-webhook-tls" },
  ])("prints NOTES that tell the operator how to opt a namespace in, with $name", async ({ values, step }) => {
    const out = await installDryRun("notes", ns, values);
    const notes = out.slice(out.indexOf("NOTES:"));
    expect(notes).toContain(`Tessera 0.1.0 is installed in namespace ${ns}`);
    expect(notes).toContain(step);
    expect(notes).toContain(`kubectl -n ${ns} get secret tessera-webhook-tls`);
    expect(notes).toContain("kubectl label namespace NAMESPACE tessera.dev/inject=enabled");
    expect(notes).toContain("docs/install.md");
  });

  it.each([
    ["warns that the webhook port is open when no apiserver address is given", { crds: { install: false } }, true],
    ["does not warn once the apiserver's addresses are given", { crds: { install: false }, networkPolicy: { apiserverCIDRs: ["10.0.0.1/32"] } }, false],
  ])("%s", async (_name, values, warns) => {
    const out = await installDryRun("netpol", ns, values);
    expect(out.slice(out.indexOf("NOTES:")).includes("Set networkPolicy.apiserverCIDRs")).toBe(warns);
  });

  it.each([
    ["tells the operator which job the alerts read when the ServiceMonitor is off", { prometheusRule: { enabled: true } }, true],
    ["says nothing of it when the chart's ServiceMonitor provides that job", { prometheusRule: { enabled: true }, serviceMonitor: { enabled: true } }, false],
  ])("%s", async (_name, values, notes) => {
    const out = await installDryRun("alerts", ns, { crds: { install: false }, ...values });
    expect(out.slice(out.indexOf("NOTES:")).includes("the alerts read the job alerts-tessera-metrics")).toBe(notes);
  });

  it("refuses CRDs applied outside Helm, and adopts them once they carry Helm's ownership metadata", async () => {
    await expect(installDryRun("adopt", ns)).rejects.toThrow(/CustomResourceDefinition "[a-z.]+" in namespace "" exists and cannot be imported into the current release/);
    // The fix docs/install.md gives.
    const crds = ["tokenpolicies.tessera.dev", "clustertokenpolicies.tessera.dev", "tokenaudiences.tessera.dev"];
    await kubectl(["label", "--overwrite", "crd", ...crds, "app.kubernetes.io/managed-by=Helm"]);
    await kubectl(["annotate", "--overwrite", "crd", ...crds, "meta.helm.sh/release-name=adopt", `meta.helm.sh/release-namespace=${ns}`]);
    expect(await installDryRun("adopt", ns)).toContain("NOTES:");
  });
});

describe("values.schema.json", () => {
  it.each([
    { name: "a misspelt key", values: { controller: { replica: 2 } }, message: /at '\/controller': additional properties 'replica' not allowed/ },
    { name: "a string where a number belongs", values: { controller: { replicas: "two" } }, message: /at '\/controller\/replicas': got string, want integer/ },
    { name: "an unknown TLS mode", values: { tls: { mode: "vault" } }, message: /at '\/tls\/mode': value must be one of/ },
    { name: "a cluster name that is not a DNS label", values: { cluster: { name: "Prod Cluster" } }, message: /at '\/cluster\/name': 'Prod Cluster' does not match pattern/ },
    { name: "a malformed audit caller", values: { audit: { revokeCallers: ["just-a-name"] } }, message: /at '\/audit\/revokeCallers\/0': 'just-a-name' does not match pattern/ },
    { name: "a renew deadline as long as the lease", values: { controller: { leaderElection: { renewDeadlineSeconds: 15 } } }, message: /renewDeadlineSeconds must be shorter/ },
    { name: "a publish switch given as a string", values: { sidecar: { publishIssuerCa: "enabled" } }, message: /at '\/sidecar\/publishIssuerCa': got string, want boolean/ },
    { name: "two ports that are the same", values: { controller: { ports: { health: 8443 } } }, message: /must differ/ },
    { name: "a sidecar metrics port that is the sidecar's token port", values: { sidecar: { metricsPort: 8777 } }, message: /at '\/sidecar\/metricsPort'/ },
    { name: "a denial ratio above 1", values: { prometheusRule: { denialRatio: 25 } }, message: /at '\/prometheusRule\/denialRatio'/ },
    { name: "a runbook URL that is not http(s)", values: { prometheusRule: { runbookBaseUrl: "docs/runbooks.md" } }, message: /at '\/prometheusRule\/runbookBaseUrl'/ },
    { name: "an alert duration Prometheus cannot read", values: { prometheusRule: { sidecarWithoutTokenFor: "five minutes" } }, message: /at '\/prometheusRule\/sidecarWithoutTokenFor'/ },
    { name: "an apiserver address without a prefix length", values: { networkPolicy: { apiserverCIDRs: ["10.0.0.1"] } }, message: /at '\/networkPolicy\/apiserverCIDRs\/0': '10.0.0.1' does not match pattern/ },
  ])("refuses $name at install time", async ({ values, message }) => {
    await expect(renderChartText({ namespace: ns, values })).rejects.toThrow(message);
  });

  it("refuses a sidecar PodMonitor without the sidecars' metrics port, saying what to set", async () => {
    const values = { podMonitor: { enabled: true } };
    await expect(renderChartText({ namespace: ns, values, apiVersions: MONITORING_APIS })).rejects.toThrow(/podMonitor.enabled needs sidecar.metricsPort/);
  });
});

describe("the dashboard ConfigMap", () => {
  it("carries the chart's dashboard JSON byte for byte under the Grafana sidecar's label, in the namespace asked for", async () => {
    const values = { dashboards: { enabled: true, namespace: "monitoring", label: "grafana_dashboard", labelValue: "tessera" } };
    const configMap = findObject(await renderChart({ namespace: ns, values }), "ConfigMap", "tessera-dashboards");
    expect(configMap.metadata.namespace).toBe("monitoring");
    expect((configMap.metadata as { labels?: Record<string, string> }).labels?.["grafana_dashboard"]).toBe("tessera");
    const file = await readFile(join(REPO_ROOT, "charts", "tessera", "files", "dashboards", "tessera.json"), "utf8");
    expect((configMap["data"] as Record<string, string>)["tessera.json"]).toBe(file.trimEnd());
  });
});
