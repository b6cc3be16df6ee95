// The admission webhooks against the real kube-apiserver: it calls Tessera's server over TLS the controller
// issued itself, stores injected pods, refuses what the webhooks refuse and passes warnings to the client.
import { randomBytes } from "node:crypto";
import { connect } from "node:tls";
import type { V1Pod } from "@kubernetes/client-node";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ANNOTATION_AUDIENCES,
  ANNOTATION_INJECTED,
  ENV_APP_ENDPOINT,
  ENV_TOKENS,
  LABEL_INJECT,
  SECRET_WEBHOOK_TLS,
  SIDECAR_CONTAINER_NAME,
  VOLUME_SUBJECT_TOKEN,
  VOLUME_TOKENS,
  WEBHOOK_CONFIGURATION_NAME,
} from "../../../api/constants.ts";
import type { AnyTokenPolicy } from "../../../api/token-policy.ts";
import { engineGuardrailChecker, enginePolicyChooser, enginePolicyCompiler } from "../../../controller/src/app/engine-adapters.ts";
import { enginePolicyPreview } from "../../../controller/src/admission/engine-preview.ts";
import type { InjectionConfig } from "../../../controller/src/admission/injection-config.ts";
import type { Json } from "../../../controller/src/admission/json-patch.ts";
import { mutatePod } from "../../../controller/src/admission/mutate-pod.ts";
import { parsePolicyDocument } from "../../../controller/src/admission/policy-document.ts";
import type { PolicyPreview } from "../../../controller/src/admission/policy-preview.ts";
import { startAdmissionServer, type AdmissionServer } from "../../../controller/src/admission/server.ts";
import { renderWebhookConfigurations, type WebhookConfiguration } from "../../../controller/src/admission/webhook-config.ts";
import { createServingCertificate, createWebhookCa } from "../../../controller/src/tls/pki.ts";
import { caBundleInstalled, syncWebhookTls } from "../../../controller/src/admission/webhook-certs.ts";
import { readWebhookSecret, reloadServingMaterial, type ServingMaterialReloader } from "../../../controller/src/tls/serving-material.ts";
import { compilePolicySet } from "../../../controller/src/policy/index.ts";
import { kubeClientFromConfig, type KubeRequester } from "../../../controller/src/kube/kube-http.ts";
import { adminKubeConfig, applyCrds, freshNamespace, kubeBody, kubeClients, waitFor, type KubeClients } from "../support/index.ts";

const RUN = randomBytes(4).toString("hex");
/** Every webhook is narrowed to namespaces carrying this label, so other tests sharing the control plane are never intercepted. */
const SCOPE_LABEL = "test.tessera.dev/admission-run";

const injection: InjectionConfig = {
  sidecarImage: "registry.example/tessera-sidecar:test",
  issuerUrl: "https://tessera.tessera-system.svc:8443",
  issuerCa: { kind: "configMap", name: "tessera-issuer-ca", key: "ca.crt" },
  tesseraAudience: "tessera.dev/issuer",
  subjectTokenExpirationSeconds: 3600,
  resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } },
  nativeSidecars: true,
  sidecarPort: 8777,
  tokenVolumeSizeLimit: "4Mi",
  runAsUser: 65532,
  injectorVersion: "test",
};

let clients: KubeClients;
let kube: KubeRequester;
let tesseraNamespace: string;
let appNamespace: string;
let wholeNamespace: string;
let server: AdmissionServer | undefined;
let reloader: ServingMaterialReloader | undefined;
const registry = new Registry();
const logger = pino({ level: "silent" });
const namespaceLabels = new Map<string, Record<string, string>>();

async function listPolicies(): Promise<AnyTokenPolicy[]> {
  const all: AnyTokenPolicy[] = [];
  for (const resource of ["tokenpolicies", "clustertokenpolicies"]) {
    const response = await kube.request("GET", `/apis/tessera.dev/v1alpha1/${resource}`);
    const items = (response.body as { items?: unknown[] } | undefined)?.items ?? [];
    for (const item of items) {
      try {
        all.push(parsePolicyDocument(item));
      } catch {
        // not a policy admission can read; ignored as the controller's cache would
      }
    }
  }
  return all;
}

/** The controller answers from its informer cache; the test reads the apiserver instead. */
const preview: PolicyPreview = {
  async preview(pod, audiences) {
    const { set } = compilePolicySet(await listPolicies());
    return enginePolicyPreview({
      chooser: enginePolicyChooser(() => set),
      namespaceLabels: (name) => namespaceLabels.get(name),
      cluster: { name: "test", environment: "test" },
    }).preview(pod, audiences);
  },
};

function scoped(configuration: WebhookConfiguration): WebhookConfiguration {
  for (const webhook of configuration.webhooks) {
    const selector = (webhook.namespaceSelector ??= {});
    selector.matchLabels = { ...selector.matchLabels, [SCOPE_LABEL]: RUN };
  }
  return configuration;
}

async function installWebhooks(port: number): Promise<void> {
  const { mutating, validating } = renderWebhookConfigurations({
    target: { kind: "url", baseUrl: `https://127.0.0.1:${port}` },
    tesseraNamespace,
    caBundlePem: "",
  });
  const paths = {
    mutating: "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
    validating: "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
  };
  await removeWebhooks();
  for (const [path, body] of [[paths.mutating, scoped(mutating)], [paths.validating, scoped(validating)]] as const) {
    const response = await kube.request("POST", path, { body });
    expect(response.status).toBe(201);
  }
}

async function removeWebhooks(): Promise<void> {
  for (const kind of ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"]) {
    await kube.request("DELETE", `/apis/admissionregistration.k8s.io/v1/${kind}/${WEBHOOK_CONFIGURATION_NAME}`);
  }
}

function podBody(name: string, options: { labels?: Record<string, string>; annotations?: Record<string, string>; hostNetwork?: boolean } = {}): V1Pod {
  return kubeBody<V1Pod>({
    metadata: { name, labels: options.labels ?? {}, annotations: options.annotations ?? {} },
    spec: {
      serviceAccountName: "web",
      containers: [{ name: "app", image: "registry.k8s.io/pause:3.10" }],
      ...(options.hostNetwork === undefined ? {} : { hostNetwork: options.hostNetwork }),
    },
  });
}

function errorText(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  return `${String(error)} ${typeof body === "string" ? body : JSON.stringify(body)}`;
}

const labelled = { [LABEL_INJECT]: "enabled" };
let counter = 0;

async function createPod(namespace: string, body: V1Pod): Promise<V1Pod> {
  return clients.core.createNamespacedPod({ namespace, body });
}

beforeAll(async () => {
  clients = kubeClients();
  kube = kubeClientFromConfig(adminKubeConfig());
  await applyCrds(clients);
  tesseraNamespace = await freshNamespace("tessera-admission");
  appNamespace = await freshNamespace("admission-app", { [SCOPE_LABEL]: RUN });
  wholeNamespace = await freshNamespace("admission-whole", { [SCOPE_LABEL]: RUN, [LABEL_INJECT]: "enabled" });
  namespaceLabels.set(appNamespace, { [SCOPE_LABEL]: RUN });

  const certs = {
    kube,
    namespace: tesseraNamespace,
    mode: "self-managed" as const,
    dnsNames: [`tessera-webhook.${tesseraNamespace}.svc`],
    ipAddresses: ["127.0.0.1"],
    now: () => new Date(),
    logger,
  };
  await syncWebhookTls(certs);
  const reloading = reloadServingMaterial({ kube, namespace: tesseraNamespace, intervalMs: 200, logger });
  reloader = reloading;
  const initial = await reloading.ready;
  const started = await startAdmissionServer({
    tls: () => reloading.current() ?? initial,
    pods: { config: injection, preview },
    policies: {
      compiler: enginePolicyCompiler,
      guardrails: engineGuardrailChecker((name) => namespaceLabels.get(name)),
      source: { list: listPolicies },
    },
    registry,
    logger,
    host: "127.0.0.1",
    port: 0,
  });
  server = started;
  await installWebhooks(started.port);
  // The leader's next pass finds the configurations and gives them the CA bundle.
  await syncWebhookTls(certs);
  const secret = await readWebhookSecret(kube, tesseraNamespace);
  expect(secret).toBeDefined();
  expect(await caBundleInstalled(kube, secret?.caBundle ?? "")).toBe(true);
  // New webhook configurations reach the apiserver's admission chain after a moment: probe until a pod is injected.
  await waitFor(
    async () => {
      const pod = await createPod(appNamespace, podBody(`probe-${counter++}`, { labels: labelled }));
      return pod.metadata?.annotations?.[ANNOTATION_INJECTED] !== undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500, description: "the mutating webhook to be called" },
  );
  await waitFor(
    async () => {
      const refused = await clients.custom
        .createNamespacedCustomObject({
          group: "tessera.dev",
          version: "v1alpha1",
          namespace: appNamespace,
          plural: "tokenpolicies",
          body: {
            apiVersion: "tessera.dev/v1alpha1",
            kind: "TokenPolicy",
            metadata: { name: `probe-${counter++}` },
            spec: { owner: { team: " " }, audiences: ["probe"], subjects: { serviceAccounts: ["probe"] } },
          },
        })
        .then(() => false)
        .catch(() => true);
      return refused;
    },
    { timeoutMs: 30_000, intervalMs: 500, description: "the validating webhook to be called" },
  );
});

afterAll(async () => {
  // Always remove the configurations first: with failurePolicy Fail they would block later tests' policies.
  await removeWebhooks();
  reloader?.stop();
  await server?.close();
});

describe("mutating webhook on the real apiserver", () => {
  it("stores a labelled pod with the native sidecar, the volumes and the env", async () => {
    const pod = await createPod(appNamespace, podBody("web-0", { labels: labelled, annotations: { [ANNOTATION_AUDIENCES]: "orders" } }));
    const stored = await clients.core.readNamespacedPod({ namespace: appNamespace, name: "web-0" });
    expect(stored.metadata?.uid).toBe(pod.metadata?.uid);
    const sidecar = stored.spec?.initContainers?.[0];
    expect(sidecar?.name).toBe(SIDECAR_CONTAINER_NAME);
    expect(sidecar?.restartPolicy).toBe("Always");
    expect(sidecar?.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(JSON.parse(sidecar?.env?.find((e) => e.name === ENV_TOKENS)?.value ?? "[]")).toEqual([{ name: "orders", audience: "orders" }]);
    expect(stored.spec?.volumes?.map((v) => v.name)).toEqual(expect.arrayContaining([VOLUME_SUBJECT_TOKEN, VOLUME_TOKENS]));
    expect(stored.spec?.volumes?.find((v) => v.name === VOLUME_SUBJECT_TOKEN)?.projected?.sources?.[0]?.serviceAccountToken).toMatchObject({
      audience: "tessera.dev/issuer",
      expirationSeconds: 3600,
    });
    const app = stored.spec?.containers.find((c) => c.name === "app");
    expect(app?.volumeMounts?.find((m) => m.name === VOLUME_TOKENS)?.readOnly).toBe(true);
    expect(app?.env?.find((e) => e.name === ENV_APP_ENDPOINT)?.value).toBe("http://127.0.0.1:8777");
  });

  it("gives the stored pod an fsGroup for the token files", async () => {
    const stored = await createPod(appNamespace, podBody("grouped", { labels: labelled }));
    expect(stored.spec?.securityContext?.fsGroup).toBe(65532);
  });

  it.each([
    ["an inline CA and a regular sidecar", { ...injection, issuerCa: { kind: "inline" as const, pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" }, nativeSidecars: false }],
    ["a separate health port", { ...injection, healthPort: 8778 }],
  ])("produces a pod the apiserver's validation accepts, with %s", async (_name, config) => {
    const mutated = mutatePod(podBody("validated", {}) as unknown as Json, config).pod;
    const response = await kube.request("POST", `/api/v1/namespaces/${appNamespace}/pods?dryRun=All`, { body: mutated });
    expect(response.status).toBe(201);
  });

  it("leaves an unlabelled pod untouched", async () => {
    const stored = await createPod(appNamespace, podBody("plain"));
    expect(stored.spec?.initContainers).toBeUndefined();
    expect(stored.spec?.containers.map((c) => c.name)).toEqual(["app"]);
    expect(stored.metadata?.annotations?.[ANNOTATION_INJECTED]).toBeUndefined();
  });

  it("injects every pod of a labelled namespace, except one that opts out", async () => {
    const injected = await createPod(wholeNamespace, podBody("member"));
    expect(injected.spec?.initContainers?.[0]?.name).toBe(SIDECAR_CONTAINER_NAME);
    const optedOut = await createPod(wholeNamespace, podBody("opted-out", { labels: { [LABEL_INJECT]: "disabled" } }));
    expect(optedOut.spec?.initContainers).toBeUndefined();
  });

  it("injects a pod matched by both webhooks only once", async () => {
    const pod = await createPod(wholeNamespace, podBody("both", { labels: labelled }));
    expect(pod.spec?.initContainers?.filter((c) => c.name === SIDECAR_CONTAINER_NAME)).toHaveLength(1);
  });

  /** A stored injected pod as `kubectl get -o yaml` shows it, made into a new pod: server-set fields dropped. */
  async function storedCopy(name: string): Promise<Record<string, unknown> & { spec: { initContainers: Record<string, unknown>[] } }> {
    const original = await createPod(appNamespace, podBody(`${name}-original`, { labels: labelled }));
    const read = await kube.request("GET", `/api/v1/namespaces/${appNamespace}/pods/${original.metadata?.name ?? ""}`);
    const stored = read.body as { metadata: Record<string, unknown>; spec: Record<string, unknown> & { initContainers: Record<string, unknown>[] } };
    const { uid: _uid, resourceVersion: _rv, creationTimestamp: _ct, managedFields: _mf, ...metadata } = stored.metadata;
    const { nodeName: _node, ...spec } = stored.spec;
    return { apiVersion: "v1", kind: "Pod", metadata: { ...metadata, name }, spec };
  }

  it("stores a copy of a stored injected pod as it is, apiserver defaults and all", async () => {
    const copy = await storedCopy("copied");
    const response = await kube.request("POST", `/api/v1/namespaces/${appNamespace}/pods`, { body: copy });
    expect(response.status).toBe(201);
    const created = response.body as { spec: { initContainers: { name: string }[] } };
    expect(created.spec.initContainers.filter((c) => c.name === SIDECAR_CONTAINER_NAME)).toHaveLength(1);
  });

  it("refuses a pod marked injected whose sidecar is not the one Tessera injects, saying what differs", async () => {
    const copy = await storedCopy("smuggled");
    const sidecar = copy.spec.initContainers[0] ?? {};
    sidecar["image"] = "registry.example/miner:1";
    sidecar["securityContext"] = { privileged: true };
    const response = await kube.request("POST", `/api/v1/namespaces/${appNamespace}/pods`, { body: copy });
    expect(response.status).toBe(403);
    const message = JSON.stringify(response.body);
    expect(message).toContain('image is \\"registry.example/miner:1\\"');
    expect(message).toContain("securityContext differs");
  });

  it("refuses a labelled hostNetwork pod with the webhook's message", async () => {
    const error: unknown = await createPod(appNamespace, podBody("host", { labels: labelled, hostNetwork: true })).catch((e: unknown) => e);
    expect(errorText(error)).toContain("spec.hostNetwork: true");
  });

  it("refuses a bad annotation with a message naming it", async () => {
    const error: unknown = await createPod(appNamespace, podBody("bad", { labels: labelled, annotations: { [ANNOTATION_AUDIENCES]: "a b" } })).catch(
      (e: unknown) => e,
    );
    expect(errorText(error)).toContain(`annotation ${ANNOTATION_AUDIENCES}`);
  });

  it("passes a warning about ungranted audiences to the client", async () => {
    const info = await clients.core.createNamespacedPodWithHttpInfo({
      namespace: appNamespace,
      body: podBody("warned", { labels: labelled, annotations: { [ANNOTATION_AUDIENCES]: "billing" } }),
    });
    const warning = Object.entries(info.headers).find(([name]) => name.toLowerCase() === "warning")?.[1] ?? "";
    // The apiserver quotes the text into a Warning header (RFC 7234 section 5.5), escaping inner quotes.
    expect(warning).toMatch(/^299 - ".*no policy grants audience .*billing.* to service account .*\/web/);
  });
});

describe("validating webhook on the real apiserver", () => {
  const policy = (name: string, spec: Record<string, unknown>): Record<string, unknown> => ({
    apiVersion: "tessera.dev/v1alpha1",
    kind: "TokenPolicy",
    metadata: { name, namespace: appNamespace },
    spec: { owner: { team: "shop" }, audiences: ["orders"], subjects: { serviceAccounts: ["web"] }, ...spec },
  });
  const create = (body: Record<string, unknown>): Promise<unknown> =>
    clients.custom.createNamespacedCustomObject({ group: "tessera.dev", version: "v1alpha1", namespace: appNamespace, plural: "tokenpolicies", body });

  it("accepts a sound TokenPolicy", async () => {
    await expect(create(policy("orders", {}))).resolves.toBeDefined();
  });

  it("refuses a CEL expression that does not type-check, naming the field", async () => {
    const error = await create(policy("typo", { audiences: ["typo"], claims: [{ name: "tenant", expression: "namspace.name" }] })).catch((e: unknown) => e);
    expect(errorText(error)).toContain("spec.claims[0].expression");
  });

  it("refuses a policy without a real owner", async () => {
    const error = await create(policy("ownerless", { audiences: ["x"], owner: { team: "   " } })).catch((e: unknown) => e);
    expect(errorText(error)).toContain("spec.owner.team");
  });

  it("refuses a policy that ties with an existing one", async () => {
    const error = await create(policy("orders-copy", {})).catch((e: unknown) => e);
    expect(errorText(error)).toContain(`ties with TokenPolicy ${appNamespace}/orders`);
  });
});

describe("webhook TLS", () => {
  it("serves a renewed certificate from the Secret without a restart, and the apiserver keeps calling", async () => {
    const port = server?.port ?? 0;
    const before = await peerCertificate(port);
    await syncWebhookTls({
      kube,
      namespace: tesseraNamespace,
      mode: "self-managed",
      dnsNames: [`tessera-webhook.${tesseraNamespace}.svc`, `tessera-webhook.${tesseraNamespace}.svc.cluster.local`],
      ipAddresses: ["127.0.0.1"],
      now: () => new Date(),
      logger,
    });
    const after = await waitFor(async () => {
      const serial = await peerCertificate(port);
      return serial !== before ? serial : undefined;
    });
    expect(after).not.toBe(before);
    const pod = await createPod(appNamespace, podBody("after-renewal", { labels: labelled }));
    expect(pod.spec?.initContainers?.[0]?.name).toBe(SIDECAR_CONTAINER_NAME);
  });

  it("in cert-manager mode trusts the CA that cert-manager wrote and never rewrites the Secret", async () => {
    const port = server?.port ?? 0;
    const before = await peerCertificate(port);
    // Play cert-manager: a new CA and serving certificate written into the Secret by someone other than Tessera.
    const now = new Date();
    const ca = await createWebhookCa(now, 24 * 3600_000, "cert-manager test CA");
    const serving = await createServingCertificate({ ca, dnsNames: [`tessera-webhook.${tesseraNamespace}.svc`], ipAddresses: ["127.0.0.1"], now, lifetimeMs: 3600_000 });
    const encode = (text: string): string => Buffer.from(text).toString("base64");
    const written = await kube.request("PUT", `/api/v1/namespaces/${tesseraNamespace}/secrets/${SECRET_WEBHOOK_TLS}`, {
      body: {
        apiVersion: "v1",
        kind: "Secret",
        type: "kubernetes.io/tls",
        metadata: { name: SECRET_WEBHOOK_TLS, namespace: tesseraNamespace },
        data: { "ca.crt": encode(ca.certPem), "tls.crt": encode(serving.certPem), "tls.key": encode(serving.keyPem) },
      },
    });
    expect(written.status).toBe(200);
    const stored = await readWebhookSecret(kube, tesseraNamespace);
    expect(await caBundleInstalled(kube, ca.certPem)).toBe(false);

    await syncWebhookTls({ kube, namespace: tesseraNamespace, mode: "cert-manager", dnsNames: [`tessera-webhook.${tesseraNamespace}.svc`], ipAddresses: ["127.0.0.1"], now: () => new Date(), logger });

    expect(await caBundleInstalled(kube, ca.certPem)).toBe(true);
    expect((await readWebhookSecret(kube, tesseraNamespace))?.resourceVersion).toBe(stored?.resourceVersion);
    await waitFor(async () => ((await peerCertificate(port)) !== before ? true : undefined));
    const pod = await waitFor(() => createPod(appNamespace, podBody(`after-cert-manager-${counter++}`, { labels: labelled })));
    expect(pod.spec?.initContainers?.[0]?.name).toBe(SIDECAR_CONTAINER_NAME);
  });

  it("counts admissions by result", async () => {
    const text = await registry.metrics();
    expect(text).toMatch(/tessera_admission_requests_total\{webhook="mutate-pods",kind="Pod",result="patched"\} [1-9]/);
    expect(text).toMatch(/tessera_admission_requests_total\{webhook="validate-policies",kind="TokenPolicy",result="denied"\} [1-9]/);
  });
});

function peerCertificate(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.end();
      resolve(serial);
    });
    socket.on("error", reject);
  });
}
