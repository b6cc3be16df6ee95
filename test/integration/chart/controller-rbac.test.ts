// The controller process runs as the chart's ServiceAccount with the chart's rendered RBAC and env (not as admin), with
// self-managed and with cert-manager TLS: everything it does works (publishing the issuer CA too), and what lies outside its rights is Forbidden.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig, type AuthenticationV1TokenRequest, type CoreV1Event, type KubernetesObject, type V1Pod, type V1Secret } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
  API_GROUP,
  API_VERSION,
  DEFAULT_TESSERA_AUDIENCE,
  ENV_CONTROLLER_NAMESPACE,
  ENV_CONTROLLER_POD_NAME,
  ENV_SERVING_DNS_NAMES,
  GRANT_TYPE_TOKEN_EXCHANGE,
  LABEL_MANAGED_BY,
  LEADER_LEASE_NAME,
  MANAGED_BY_TESSERA,
  PATH_TOKEN,
  RESOURCE_TOKEN_POLICIES,
  SECRET_SIGNING_KEYS,
  SECRET_WEBHOOK_TLS,
  SIDECAR_CONTAINER_NAME,
  TOKEN_TYPE_JWT,
  WEBHOOK_CONFIGURATION_NAME,
} from "../../../api/constants.ts";
import type { TokenPolicy } from "../../../api/token-policy.ts";
import { createServingCertificate, createWebhookCa } from "../../../controller/src/tls/pki.ts";
import { kubeClientFromConfig, type KubeClient } from "../../../controller/src/kube/kube-http.ts";
import {
  applyCrds,
  controlPlaneInfo,
  createPod,
  createServiceAccount,
  freshNamespace,
  kubeBody,
  kubeClients,
  mintProjectedToken,
  REPO_ROOT,
  waitFor,
} from "../support/index.ts";
import { freeControllerPorts, spawnController, type ControllerPorts, type SpawnedController } from "../support/controller-launcher.ts";
import { findObject, kubectl, renderChart, type Rendered } from "./chart.ts";

const admin = kubeClients();
const WEBHOOK_KINDS = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"] as const;
const AUDIENCE = "https://orders.example";
const POD_NAME = "tessera-6f7c9-rbac0";
/** The chart's default sidecar.issuerCaConfigMap. */
const ISSUER_CA_CONFIGMAP = "tessera-issuer-ca";

interface Mode {
  readonly name: string;
  readonly release: string;
  readonly certManager: boolean;
}
const MODES: readonly Mode[] = [
  { name: "self-managed TLS", release: "tessera", certManager: false },
  { name: "cert-manager TLS", release: "tessera-cm", certManager: true },
];

let tesseraNs: string;
let workNs: string;
let scratch: string;
let controller: SpawnedController | undefined;
/** resourceVersion of the serving Secret that "cert-manager" wrote. */
let certManagerSecretVersion: string | undefined;
let ports: ControllerPorts;
/** The apiserver, as the chart's ServiceAccount. */
let asController: KubeClient;

/** The controller's env as the kubelet would resolve it from the rendered Deployment. */
function deploymentEnv(deployment: Rendered): Record<string, string> {
  const spec = deployment["spec"] as { template: { spec: { containers: { env: { name: string; value?: string; valueFrom?: { fieldRef: { fieldPath: string } } }[] }[] } } };
  const env: Record<string, string> = {};
  for (const e of spec.template.spec.containers[0]?.env ?? []) {
    const field = e.valueFrom?.fieldRef.fieldPath;
    env[e.name] = field === "metadata.namespace" ? tesseraNs : field === "metadata.name" ? POD_NAME : (e.value ?? "");
  }
  return env;
}

/** The chart's webhooks, pointed at the controller's local port instead of the Service (no cluster network here). */
function localWebhooks(objects: readonly Rendered[]): Rendered[] {
  return WEBHOOK_KINDS.map((kind) => {
    const config = structuredClone(findObject(objects, kind)) as Rendered & { webhooks: { clientConfig: Record<string, unknown> }[] };
    for (const webhook of config.webhooks) {
      const path = (webhook.clientConfig["service"] as { path: string }).path;
      webhook.clientConfig = { url: `https://localhost:${ports.admission}${path}` };
    }
    return config;
  });
}

/** A kubeconfig that authenticates with a token of the chart's ServiceAccount from TokenRequest. */
async function serviceAccountKubeconfig(serviceAccount: string): Promise<string> {
  const info = controlPlaneInfo();
  const response = await admin.core.createNamespacedServiceAccountToken({
    namespace: tesseraNs,
    name: serviceAccount,
    body: kubeBody<AuthenticationV1TokenRequest>({ spec: { audiences: [info.serviceAccountIssuer], expirationSeconds: 3600 } }),
  });
  const token = response.status?.token ?? "";
  const file = join(scratch, "controller.kubeconfig");
  const kubeconfig = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "local", cluster: { server: info.apiserverUrl, "certificate-authority-data": Buffer.from(info.caPem).toString("base64") } }],
    users: [{ name: "tessera", user: { token } }],
    contexts: [{ name: "tessera", context: { cluster: "local", user: "tessera" } }],
    "current-context": "tessera",
  };
  await writeFile(file, stringify(kubeconfig), { mode: 0o600 });
  return file;
}

async function secretData(name: string): Promise<Record<string, string> | undefined> {
  try {
    return (await admin.core.readNamespacedSecret({ namespace: tesseraNs, name })).data;
  } catch {
    return undefined;
  }
}

/** POST /v1/token over TLS, trusting the CA from the controller's own serving Secret. */
async function exchange(subjectToken: string, audience: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const ca = Buffer.from((await secretData(SECRET_WEBHOOK_TLS))?.["ca.crt"] ?? "", "base64").toString("utf8");
  const form = new URLSearchParams({ grant_type: GRANT_TYPE_TOKEN_EXCHANGE, subject_token: subjectToken, subject_token_type: TOKEN_TYPE_JWT, audience }).toString();
  return await new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", servername: "localhost", port: ports.issuer, path: PATH_TOKEN, method: "POST", ca, headers: { "content-type": "application/x-www-form-urlencoded" } },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString("utf8")));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
        });
      },
    );
    req.on("error", reject);
    req.end(form);
  });
}

/** Runs a TypeScript entry point of the repository; resolves with its stdout, rejects with its stderr. */
async function runNode(args: readonly string[]): Promise<string> {
  return await new Promise((resolve, reject) => {
    execFile(process.execPath, ["--import", "tsx", ...args], { cwd: REPO_ROOT, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(stderr || err.message));
      else resolve(stdout);
    });
  });
}

async function events(namespace: string, pod: string, reason: string): Promise<CoreV1Event[]> {
  return (await admin.core.listNamespacedEvent({ namespace })).items.filter((e) => e.involvedObject.name === pod && e.reason === reason);
}

async function readPolicy(name: string): Promise<TokenPolicy> {
  return (await admin.custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: workNs, plural: RESOURCE_TOKEN_POLICIES, name })) as TokenPolicy;
}

function tokenPolicy(name: string, spec: Record<string, unknown>): KubernetesObject & { spec: Record<string, unknown> } {
  return kubeBody<KubernetesObject & { spec: Record<string, unknown> }>({ apiVersion: `${API_GROUP}/${API_VERSION}`, kind: "TokenPolicy", metadata: { name, namespace: workNs }, spec });
}

/** What cert-manager's Certificate would write: tessera-webhook-tls with ca.crt, tls.crt and tls.key. */
async function writeCertManagerSecret(dnsNames: readonly string[]): Promise<void> {
  const now = new Date();
  const ca = await createWebhookCa(now, 24 * 3600_000, "test cert-manager CA");
  const serving = await createServingCertificate({ ca, dnsNames, ipAddresses: [], now, lifetimeMs: 24 * 3600_000 });
  const b64 = (text: string): string => Buffer.from(text).toString("base64");
  await admin.core.createNamespacedSecret({
    namespace: tesseraNs,
    body: kubeBody<V1Secret>({
      metadata: { name: SECRET_WEBHOOK_TLS, namespace: tesseraNs },
      type: "kubernetes.io/tls",
      data: { "ca.crt": b64(ca.certPem), "tls.crt": b64(serving.certPem), "tls.key": b64(serving.keyPem) },
    }),
  });
}

async function removeWebhooks(): Promise<void> {
  for (const kind of WEBHOOK_KINDS) await kubectl(["delete", kind.toLowerCase(), WEBHOOK_CONFIGURATION_NAME, "--ignore-not-found"]);
}

describe.each(MODES)("with $name", (mode) => {
  beforeAll(async () => {
    await applyCrds(admin);
    tesseraNs = await freshNamespace("tessera-rbac");
    workNs = await freshNamespace("tessera-rbac-work");
    scratch = await mkdtemp(join(tmpdir(), "tessera-rbac-"));
    ports = await freeControllerPorts();
    const info = controlPlaneInfo();
    const objects = await renderChart({
      release: mode.release,
      namespace: tesseraNs,
      values: {
        cluster: { name: "test", environment: "dev" },
        issuer: { serviceAccountIssuer: info.serviceAccountIssuer },
        controller: { logLevel: "warn" },
        ...(mode.certManager ? { tls: { mode: "cert-manager" } } : {}),
      },
    });

    // The chart's identity and RBAC, applied as they are rendered.
    const rbacKinds = new Set(["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]);
    await kubectl(["apply", "--server-side", "--force-conflicts", "-f", "-"], objects.filter((o) => rbacKinds.has(o.kind)).map((o) => stringify(o)).join("---\n"));

    // Before the webhooks exist: a pod that opted in but escaped injection, and the policy that selects it.
    await createServiceAccount(workNs, "orders");
    await createPod(workNs, { name: "escaped", serviceAccountName: "orders", labels: { app: "orders", "tessera.dev/inject": "enabled" } });
    await admin.objects.create(tokenPolicy("orders", { owner: { team: "orders" }, subjects: { serviceAccounts: ["orders"] }, audiences: [AUDIENCE] }));
    // cert-manager mode: the test plays cert-manager and writes the serving Secret.
    if (mode.certManager) await writeCertManagerSecret(["localhost"]);
    certManagerSecretVersion = mode.certManager ? (await admin.core.readNamespacedSecret({ namespace: tesseraNs, name: SECRET_WEBHOOK_TLS })).metadata?.resourceVersion : undefined;
    await kubectl(["apply", "--server-side", "--force-conflicts", "-f", "-"], localWebhooks(objects).map((o) => stringify(o)).join("---\n"));

    const kubeconfigPath = await serviceAccountKubeconfig(findObject(objects, "ServiceAccount").metadata.name);
    const saConfig = new KubeConfig();
    saConfig.loadFromFile(kubeconfigPath);
    asController = kubeClientFromConfig(saConfig);
    // The RBAC authorizer learns new bindings from its own watch: start the controller once they are in effect.
    await waitFor(async () => (await asController.request("GET", "/api/v1/pods?limit=1")).status === 200, { timeoutMs: 20_000, description: "chart RBAC in effect" });

    // What differs from a pod: credentials from a file, loopback listeners, a URL the test can reach, localhost in the certificate.
    const env = deploymentEnv(findObject(objects, "Deployment"));
    controller = spawnController({
      baseEnv: env,
      kubeconfigPath,
      namespace: env[ENV_CONTROLLER_NAMESPACE] ?? "",
      podName: env[ENV_CONTROLLER_POD_NAME] ?? "",
      ports,
      issuerHost: "localhost",
      servingDnsNames: `${env[ENV_SERVING_DNS_NAMES] ?? ""},localhost`,
    });
  }, 120_000);

  afterAll(async () => {
    // First: with failurePolicy Fail the configurations would block later tests' policies.
    await removeWebhooks();
    await controller?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  describe("the controller as the chart's ServiceAccount", () => {
    it("becomes ready: every cache synced and a signing key loaded", async () => {
      await waitFor(async () => (await controller?.readyzStatus()) === 200, { timeoutMs: 60_000, description: "/readyz 200" });
    });

    it("holds the leader Lease in its namespace", async () => {
      const lease = await admin.objects.read({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: LEADER_LEASE_NAME, namespace: tesseraNs } });
      expect((lease as { spec?: { holderIdentity?: string } }).spec?.holderIdentity).toBe(POD_NAME);
    });

    it("created its signing-key Secret, and has a serving-certificate Secret", async () => {
      expect(Object.keys((await secretData(SECRET_SIGNING_KEYS)) ?? {})).not.toEqual([]);
      expect(Object.keys((await secretData(SECRET_WEBHOOK_TLS)) ?? {})).toEqual(expect.arrayContaining(["ca.crt", "tls.crt", "tls.key"]));
    });

    // With cert-manager the Secret belongs to cert-manager, and the chart grants no write to it.
    if (mode.certManager) {
      it("leaves the serving certificate cert-manager wrote as it is", async () => {
        const secret = await admin.core.readNamespacedSecret({ namespace: tesseraNs, name: SECRET_WEBHOOK_TLS });
        expect(secret.metadata?.resourceVersion).toBe(certManagerSecretVersion);
      });
    }

    it("set caBundle on every entry of both webhook configurations", async () => {
      const ca = (await secretData(SECRET_WEBHOOK_TLS))?.["ca.crt"];
      for (const kind of WEBHOOK_KINDS) {
        await waitFor(
          async () => {
            const config = JSON.parse(await kubectl(["get", kind.toLowerCase(), WEBHOOK_CONFIGURATION_NAME, "-o", "json"])) as { webhooks: { clientConfig: { caBundle?: string } }[] };
            expect(config.webhooks.map((w) => w.clientConfig.caBundle)).toEqual(config.webhooks.map(() => ca));
            return true;
          },
          { timeoutMs: 30_000, description: `${kind} caBundle` },
        );
      }
    });

    it("writes policy status: Accepted and Ready, with the escaped pod counted", async () => {
      await waitFor(
        async () => {
          const status = (await readPolicy("orders")).status;
          expect(status?.conditions?.map((c) => `${c.type}=${c.status}`).sort()).toEqual(["Accepted=True", "Ready=True", "WithinCostBudget=True"]);
          expect(status?.podsUninjected).toBe(1);
          return true;
        },
        { timeoutMs: 30_000, description: "status of TokenPolicy orders" },
      );
    });

    it("writes an Event on the pod that escaped injection, in the pod's namespace", async () => {
      await waitFor(async () => (await events(workNs, "escaped", "SidecarNotInjected")).length === 1, { timeoutMs: 30_000, description: "SidecarNotInjected Event" });
    });

    it("serves admission: a labelled pod is stored injected, and a policy that names no owner team is refused", async () => {
      const pod = await waitFor(
        async () => await createPod(workNs, { name: `injected-${Date.now().toString(36)}`, serviceAccountName: "orders", labels: { app: "orders", "tessera.dev/inject": "enabled" } }),
        { timeoutMs: 30_000, description: "pod admitted by the webhook" },
      );
      const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name);
      expect(containers).toContain(SIDECAR_CONTAINER_NAME);
      await expect(
        admin.objects.create(tokenPolicy("ownerless", { owner: { team: " " }, subjects: { serviceAccounts: ["orders"] }, audiences: [AUDIENCE] })),
      ).rejects.toThrow(/spec\.owner\.team/);
    });

    it("issues a token after a TokenReview, and records a denied request as an Event on the pod", async () => {
      const pod: V1Pod = await createPod(workNs, { name: "client", serviceAccountName: "orders", labels: { app: "orders" } });
      const subject = await mintProjectedToken({ namespace: workNs, serviceAccount: "orders", pod, audience: DEFAULT_TESSERA_AUDIENCE });
      const granted = await waitFor(async () => {
        const res = await exchange(subject, AUDIENCE);
        return res.status === 200 ? res : undefined;
      }, { timeoutMs: 20_000, description: "token exchange 200" });
      expect(granted.body["token_type"]).toBe("Bearer");
      // The kind script's verifier accepts it against the issuer's JWKS, as a downstream service would.
      const ca = Buffer.from((await secretData(SECRET_WEBHOOK_TLS))?.["ca.crt"] ?? "", "base64").toString("utf8");
      await writeFile(join(scratch, "ca.crt"), ca);
      await writeFile(join(scratch, "token.json"), JSON.stringify(granted.body), { mode: 0o600 });
      const verified = await runNode([
        "test/e2e/verify-token.ts",
        ...["--jwks-url", `https://127.0.0.1:${ports.issuer}/.well-known/jwks.json`, "--servername", "localhost", "--ca", join(scratch, "ca.crt")],
        ...["--issuer", `https://localhost:${ports.issuer}`, "--audience", AUDIENCE, "--token-file", join(scratch, "token.json")],
      ]);
      expect(verified).toMatch(/^verified at\+jwt token/);
      expect(verified).toContain(`"sub": "system:serviceaccount:${workNs}:orders"`);
      const denied = await exchange(subject, "https://elsewhere.example");
      expect(denied.status).toBeGreaterThanOrEqual(400);
      const reason = String(denied.body["tessera_reason"]);
      expect(reason).toMatch(/^[A-Z][A-Za-z]+$/);
      await waitFor(async () => (await events(workNs, "client", reason)).length === 1, { timeoutMs: 20_000, description: `${reason} Event` });
    });

    it("publishes the serving CA bundle as the issuer CA ConfigMap in the namespace of the opted-in pod", async () => {
      const ca = Buffer.from((await secretData(SECRET_WEBHOOK_TLS))?.["ca.crt"] ?? "", "base64").toString("utf8");
      expect(ca).toContain("-----BEGIN CERTIFICATE-----");
      const cm = await waitFor(async () => {
        const found = await admin.core.readNamespacedConfigMap({ namespace: workNs, name: ISSUER_CA_CONFIGMAP });
        expect(found.data?.["ca.crt"]).toBe(ca);
        return found;
      }, { timeoutMs: 30_000, description: `ConfigMap ${ISSUER_CA_CONFIGMAP} in ${workNs}` });
      expect(cm.metadata?.labels?.[LABEL_MANAGED_BY]).toBe(MANAGED_BY_TESSERA);
    });

    it("met no permission error while doing all of that", () => {
      expect(controller?.output()).not.toMatch(/forbidden/i);
      expect(controller?.output()).not.toMatch(/"status":\s*403/);
    });
  });

  describe("outside the chart's RBAC, the apiserver answers Forbidden when the ServiceAccount tries", () => {
    const certManagerRows = [
      { name: "overwriting the serving certificate cert-manager owns", method: "PUT", path: () => `/api/v1/namespaces/${tesseraNs}/secrets/${SECRET_WEBHOOK_TLS}`, body: { metadata: { name: SECRET_WEBHOOK_TLS } } },
    ];
    it.each([
      ...(mode.certManager ? certManagerRows : []),
      { name: "reading a Secret in another namespace", method: "GET", path: () => `/api/v1/namespaces/${workNs}/secrets/anything` },
      { name: "listing Secrets across the cluster", method: "GET", path: () => "/api/v1/secrets" },
      { name: "reading a ConfigMap in another namespace", method: "GET", path: () => `/api/v1/namespaces/${workNs}/configmaps/anything` },
      { name: "listing ConfigMaps across the cluster", method: "GET", path: () => "/api/v1/configmaps" },
      { name: "patching a ConfigMap other than the issuer CA in another namespace", method: "PATCH", path: () => `/api/v1/namespaces/${workNs}/configmaps/anything`, body: { data: { x: "y" } } },
      { name: "deleting the issuer CA ConfigMap it published", method: "DELETE", path: () => `/api/v1/namespaces/${workNs}/configmaps/${ISSUER_CA_CONFIGMAP}` },
      { name: "writing a policy's spec", method: "PATCH", path: () => `/apis/${API_GROUP}/${API_VERSION}/namespaces/${workNs}/${RESOURCE_TOKEN_POLICIES}/orders`, body: { spec: { audiences: ["https://evil.example"] } } },
      { name: "deleting a policy", method: "DELETE", path: () => `/apis/${API_GROUP}/${API_VERSION}/namespaces/${workNs}/${RESOURCE_TOKEN_POLICIES}/orders` },
      { name: "reading a single pod (it reads pods from its cache only)", method: "GET", path: () => `/api/v1/namespaces/${workNs}/pods/client` },
      { name: "creating a pod", method: "POST", path: () => `/api/v1/namespaces/${workNs}/pods`, body: { metadata: { name: "x" }, spec: { containers: [{ name: "x", image: "x" }] } } },
      { name: "deleting its own Lease", method: "DELETE", path: () => `/apis/coordination.k8s.io/v1/namespaces/${tesseraNs}/leases/${LEADER_LEASE_NAME}` },
      { name: "taking over another Lease in its namespace", method: "PUT", path: () => `/apis/coordination.k8s.io/v1/namespaces/${tesseraNs}/leases/other`, body: { metadata: { name: "other" }, spec: {} } },
      { name: "patching a webhook configuration that is not Tessera's", method: "PATCH", path: () => "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/other", body: {} },
      { name: "deleting Tessera's own webhook configuration", method: "DELETE", path: () => `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${WEBHOOK_CONFIGURATION_NAME}` },
    ])("$name", async ({ method, path, body }) => {
      const res = await asController.request(method, path(), { ...(body === undefined ? {} : { body }), contentType: "application/merge-patch+json" });
      expect(res.status).toBe(403);
      expect((res.body as { reason?: string }).reason).toBe("Forbidden");
    });
  });
});
