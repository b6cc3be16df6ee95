// Services on the node (pure): kube-proxy's configuration (iptables mode, NodePorts only on the node's bridge
// address, conntrack settings left alone) and the cluster DNS that runs as a pod, as in a cluster built by kubeadm.
import { stringify } from "yaml";
import { NODE_NETWORK } from "./layout.ts";

/** ClusterIP of the cluster DNS Service (kube-system/kube-dns), the tenth address of the Service range. */
export const CLUSTER_DNS_IP = "10.0.0.10";
export const CLUSTER_DOMAIN = "cluster.local";

/**
 * The control-plane host's resolver when it resolves with the cluster DNS: Service names (`tessera.tessera.svc`)
 * resolve through the search list, and nothing is asked of the machine's own resolvers.
 */
export function clusterDnsResolvConf(): string {
  return [`nameserver ${CLUSTER_DNS_IP}`, `search svc.${CLUSTER_DOMAIN} ${CLUSTER_DOMAIN}`, "options ndots:5", ""].join("\n");
}

/**
 * The apiserver's AuthenticationConfiguration before any JWT issuer is trusted. Starting with one lets a test add
 * Tessera as an issuer later: the apiserver re-reads the file, as an operator's edit would be picked up.
 */
export const EMPTY_AUTHENTICATION_CONFIG: Readonly<Record<string, unknown>> = Object.freeze({
  apiVersion: "apiserver.config.k8s.io/v1",
  kind: "AuthenticationConfiguration",
  jwt: [],
});

export interface KubeProxyConfigParams {
  readonly kubeconfig: string;
  readonly nodeName: string;
  readonly healthzPort: number;
  readonly metricsPort: number;
}

export function renderKubeProxyConfig(p: KubeProxyConfigParams): string {
  return stringify({
    apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
    kind: "KubeProxyConfiguration",
    mode: "iptables",
    clientConnection: { kubeconfig: p.kubeconfig },
    hostnameOverride: p.nodeName,
    clusterCIDR: NODE_NETWORK.podCidr,
    // A NodePort opens on the bridge address only, never on the machine's other interfaces.
    nodePortAddresses: [`${NODE_NETWORK.gateway}/32`],
    healthzBindAddress: `127.0.0.1:${p.healthzPort}`,
    metricsBindAddress: `127.0.0.1:${p.metricsPort}`,
    // Zero leaves the machine's conntrack sysctls as they are.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" },
  });
}

export function kubeProxyArgs(configFile: string): string[] {
  return [`--config=${configFile}`, "--v=1"];
}

/**
 * The cluster DNS objects: CoreDNS as a Deployment in kube-system with the Service kube-dns at CLUSTER_DNS_IP.
 * Its Corefile answers cluster names from the API and nothing else (no forward plugin: no query leaves the
 * machine).
 */
export function clusterDnsManifests(image: string): Record<string, unknown>[] {
  const labels = { "k8s-app": "kube-dns" };
  const corefile = [
    ".:53 {",
    "    errors",
    "    health :8080",
    "    ready :8181",
    `    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {`,
    "        pods insecure",
    "        ttl 30",
    "    }",
    "    cache 30",
    "}",
    "",
  ].join("\n");
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "coredns", namespace: "kube-system" } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "system:coredns" },
      rules: [
        { apiGroups: [""], resources: ["endpoints", "services", "pods", "namespaces"], verbs: ["list", "watch"] },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "system:coredns" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:coredns" },
      subjects: [{ kind: "ServiceAccount", name: "coredns", namespace: "kube-system" }],
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "coredns", namespace: "kube-system" },
      data: { Corefile: corefile },
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "coredns", namespace: "kube-system", labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: "coredns",
            // CoreDNS resolves for everyone else: it must not depend on itself.
            dnsPolicy: "Default",
            priorityClassName: "system-cluster-critical",
            containers: [
              {
                name: "coredns",
                image,
                imagePullPolicy: "Never",
                args: ["-conf", "/etc/coredns/Corefile"],
                ports: [
                  { name: "dns", containerPort: 53, protocol: "UDP" },
                  { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
                ],
                readinessProbe: { httpGet: { path: "/ready", port: 8181 }, periodSeconds: 2 },
                livenessProbe: { httpGet: { path: "/health", port: 8080 }, periodSeconds: 10 },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] },
                  readOnlyRootFilesystem: true,
                },
                volumeMounts: [{ name: "config", mountPath: "/etc/coredns", readOnly: true }],
              },
            ],
            volumes: [{ name: "config", configMap: { name: "coredns" } }],
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "kube-dns", namespace: "kube-system", labels },
      spec: {
        clusterIP: CLUSTER_DNS_IP,
        selector: labels,
        ports: [
          { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
          { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
        ],
      },
    },
  ];
}
