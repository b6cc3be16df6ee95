// Webhook TLS I/O on the leader: keeps the CA and serving certificate in a Secret and the caBundle in the webhook
// configurations (every replica reloads its serving material from that Secret: tls/serving-material.ts).
import type { Logger } from "pino";
import {
  LABEL_MANAGED_BY,
  MANAGED_BY_TESSERA,
  SECRET_WEBHOOK_TLS,
  WEBHOOK_CONFIGURATION_NAME,
} from "../../../api/constants.ts";
import { planWebhookTls, type CertPlan, type StoredWebhookTls } from "../tls/cert-plan.ts";
import type { KubeRequester } from "../kube/kube-http.ts";
import { AdmissionError } from "./errors.ts";
import { readWebhookSecret, SECRET_KEYS, servingSecretPath, type StoredServingSecret } from "../tls/serving-material.ts";
import { createServingCertificate, createWebhookCa, joinBundle, readStoredFacts, splitPemBundle } from "../tls/pki.ts";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** self-managed: the leader issues and renews; cert-manager: cert-manager writes the Secret, Tessera only reads it. */
export type WebhookTlsMode = "self-managed" | "cert-manager";

const DAY_MS = 24 * 60 * 60 * 1000;

export interface WebhookCertsOptions {
  readonly kube: KubeRequester;
  readonly namespace: string;
  readonly secretName?: string;
  readonly mode: WebhookTlsMode;
  /** Serving certificate DNS names, e.g. tessera-webhook.tessera-system.svc. */
  readonly dnsNames: readonly string[];
  /** Serving certificate IP addresses (127.0.0.1 for tests). */
  readonly ipAddresses: readonly string[];
  readonly now: () => Date;
  readonly logger: Logger;
  /** Default 365 days. */
  readonly caLifetimeMs?: number;
  /** Default 30 days. */
  readonly servingLifetimeMs?: number;
  readonly renewAtFraction?: number;
}

const CONFIGURATION_PATHS = [
  `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${WEBHOOK_CONFIGURATION_NAME}`,
  `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${WEBHOOK_CONFIGURATION_NAME}`,
];

/** caBundle of each webhook entry of a configuration, or undefined when the configuration is not installed. */
async function installedBundles(kube: KubeRequester, path: string): Promise<(string | undefined)[] | undefined> {
  const response = await kube.request("GET", path);
  if (response.status === 404) return undefined;
  if (response.status !== 200 || !isRecord(response.body)) {
    throw new AdmissionError("InvalidCertificate", `reading ${path} failed with HTTP ${response.status}`);
  }
  const webhooks = response.body["webhooks"];
  if (!Array.isArray(webhooks)) return [];
  return (webhooks as unknown[]).map((webhook) => {
    const config = isRecord(webhook) ? webhook["clientConfig"] : undefined;
    return isRecord(config) && typeof config["caBundle"] === "string" ? config["caBundle"] : undefined;
  });
}

/** True when every installed webhook entry already trusts `bundlePem` (nothing installed counts as true). */
export async function caBundleInstalled(kube: KubeRequester, bundlePem: string): Promise<boolean> {
  const wanted = Buffer.from(bundlePem).toString("base64");
  for (const path of CONFIGURATION_PATHS) {
    const bundles = await installedBundles(kube, path);
    if (bundles !== undefined && bundles.some((b) => b !== wanted)) return false;
  }
  return true;
}

/** Sets caBundle on every webhook entry of both configurations that does not carry it yet. */
export async function patchCaBundles(kube: KubeRequester, bundlePem: string): Promise<number> {
  const wanted = Buffer.from(bundlePem).toString("base64");
  let patched = 0;
  for (const path of CONFIGURATION_PATHS) {
    const bundles = await installedBundles(kube, path);
    if (bundles === undefined) continue;
    const ops = bundles.flatMap((bundle, i) =>
      bundle === wanted ? [] : [{ op: "add", path: `/webhooks/${i}/clientConfig/caBundle`, value: wanted }],
    );
    if (ops.length === 0) continue;
    const response = await kube.request("PATCH", path, { body: ops, contentType: "application/json-patch+json" });
    if (response.status !== 200) {
      throw new AdmissionError("InvalidCertificate", `patching caBundle into ${path} failed with HTTP ${response.status}`);
    }
    patched += ops.length;
  }
  return patched;
}

async function storedFacts(secret: StoredServingSecret | undefined): Promise<StoredWebhookTls | undefined> {
  if (secret === undefined) return undefined;
  try {
    return await readStoredFacts(secret.caBundle, secret.tlsCert);
  } catch {
    return undefined;
  }
}

async function writeSecret(options: WebhookCertsOptions, previous: StoredServingSecret | undefined, next: Omit<StoredServingSecret, "resourceVersion">): Promise<boolean> {
  const name = options.secretName ?? SECRET_WEBHOOK_TLS;
  const encode = (text: string): string => Buffer.from(text).toString("base64");
  const body = {
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/tls",
    metadata: {
      name,
      namespace: options.namespace,
      labels: { [LABEL_MANAGED_BY]: MANAGED_BY_TESSERA },
      ...(previous === undefined ? {} : { resourceVersion: previous.resourceVersion }),
    },
    data: {
      [SECRET_KEYS.caBundle]: encode(next.caBundle),
      ...(next.caKey === undefined ? {} : { [SECRET_KEYS.caKey]: encode(next.caKey) }),
      [SECRET_KEYS.tlsCert]: encode(next.tlsCert),
      [SECRET_KEYS.tlsKey]: encode(next.tlsKey),
    },
  };
  const response =
    previous === undefined
      ? await options.kube.request("POST", servingSecretPath(options.namespace), { body })
      : await options.kube.request("PUT", servingSecretPath(options.namespace, name), { body });
  // Another leader (or a stale read) got there first: plan again from what is stored now.
  if (response.status === 409) return false;
  if (response.status !== 200 && response.status !== 201) {
    throw new AdmissionError("InvalidCertificate", `writing Secret ${options.namespace}/${name} failed with HTTP ${response.status}`);
  }
  return true;
}

async function execute(options: WebhookCertsOptions, plan: CertPlan, secret: StoredServingSecret | undefined): Promise<boolean> {
  const now = options.now();
  const caLifetime = options.caLifetimeMs ?? 365 * DAY_MS;
  const servingLifetime = options.servingLifetimeMs ?? 30 * DAY_MS;
  const serving = (ca: { certPem: string; keyPem: string }): ReturnType<typeof createServingCertificate> =>
    createServingCertificate({ ca, dnsNames: options.dnsNames, ipAddresses: options.ipAddresses, now, lifetimeMs: servingLifetime });
  const currentCaPem = secret === undefined ? undefined : splitPemBundle(secret.caBundle)[0];
  const action = plan.action !== "issue-all" && (secret?.caKey === undefined || currentCaPem === undefined) ? "issue-all" : plan.action;
  if (action === "issue-all" || secret === undefined || secret.caKey === undefined || currentCaPem === undefined) {
    const ca = await createWebhookCa(now, caLifetime, "Tessera webhook CA");
    const cert = await serving(ca);
    return writeSecret(options, secret, { caBundle: joinBundle(ca.certPem, [], now), caKey: ca.keyPem, tlsCert: cert.certPem, tlsKey: cert.keyPem });
  }
  if (action === "rotate-ca") {
    const ca = await createWebhookCa(now, caLifetime, "Tessera webhook CA");
    return writeSecret(options, secret, { ...secret, caBundle: joinBundle(ca.certPem, splitPemBundle(secret.caBundle), now), caKey: ca.keyPem });
  }
  const cert = await serving({ certPem: currentCaPem, keyPem: secret.caKey });
  return writeSecret(options, secret, { ...secret, caBundle: joinBundle(currentCaPem, splitPemBundle(secret.caBundle), now), tlsCert: cert.certPem, tlsKey: cert.keyPem });
}

/**
 * One leader pass: plan, act, then make the webhook configurations trust the stored bundle. A CA rotation
 * takes two steps within the pass (new CA trusted first, serving certificate second). Returns the last plan;
 * call again at its nextCheckAt.
 */
export async function syncWebhookTls(options: WebhookCertsOptions): Promise<CertPlan> {
  const name = options.secretName ?? SECRET_WEBHOOK_TLS;
  for (let attempt = 0; attempt < 4; attempt++) {
    const secret = await readWebhookSecret(options.kube, options.namespace, name);
    if (secret !== undefined) await patchCaBundles(options.kube, secret.caBundle);
    const installed = secret === undefined ? true : await caBundleInstalled(options.kube, secret.caBundle);
    const plan = planWebhookTls({
      stored: await storedFacts(secret),
      dnsNames: options.dnsNames,
      ipAddresses: options.ipAddresses,
      caBundleInstalled: installed,
      now: options.now(),
      ...(options.renewAtFraction === undefined ? {} : { renewAtFraction: options.renewAtFraction }),
    });
    if (options.mode === "cert-manager" || plan.action === "none") {
      if (options.mode === "cert-manager" && plan.action !== "none") {
        options.logger.warn({ reason: plan.reason, secret: name }, "webhook certificate needs renewal; cert-manager owns it");
      }
      return plan;
    }
    options.logger.info({ action: plan.action, reason: plan.reason, secret: name }, "renewing webhook certificate");
    await execute(options, plan, secret);
  }
  throw new AdmissionError("InvalidCertificate", "the webhook certificate kept changing under the controller; retry later");
}

