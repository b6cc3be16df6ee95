// The serving Secret every replica serves from: reading it, and reloading the material when it is renewed.
import type { Logger } from "pino";
import { SECRET_WEBHOOK_TLS } from "../../../api/constants.ts";
import type { KubeRequester } from "../kube/kube-http.ts";
import { TlsError } from "./errors.ts";
import type { TlsMaterial } from "./material.ts";
import { splitPemBundle } from "./pki.ts";

/** Keys of a kubernetes.io/tls Secret plus ca.crt (and ca.key when self-managed), the layout cert-manager writes too. */
export const SECRET_KEYS = {
  caBundle: "ca.crt",
  caKey: "ca.key",
  tlsCert: "tls.crt",
  tlsKey: "tls.key",
} as const;

/** The serving Secret as stored: CA bundle (and key, when self-managed), serving chain and key. */
export interface StoredServingSecret {
  readonly resourceVersion: string;
  readonly caBundle: string;
  readonly caKey?: string;
  readonly tlsCert: string;
  readonly tlsKey: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The path of the Secrets collection in `namespace`, or of one Secret. */
export function servingSecretPath(namespace: string, name?: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets${name === undefined ? "" : `/${encodeURIComponent(name)}`}`;
}

function decoded(data: Record<string, unknown>, key: string): string | undefined {
  const value = data[key];
  return typeof value === "string" ? Buffer.from(value, "base64").toString("utf8") : undefined;
}

/** Reads the webhook TLS Secret; undefined when it does not exist or lacks a certificate and key. */
export async function readWebhookSecret(kube: KubeRequester, namespace: string, name = SECRET_WEBHOOK_TLS): Promise<StoredServingSecret | undefined> {
  const response = await kube.request("GET", servingSecretPath(namespace, name));
  if (response.status === 404) return undefined;
  if (response.status !== 200 || !isRecord(response.body)) {
    throw new TlsError("SecretUnreadable", `reading Secret ${namespace}/${name} failed with HTTP ${response.status}`);
  }
  const metadata = response.body["metadata"];
  const data = response.body["data"];
  if (!isRecord(metadata) || !isRecord(data)) return undefined;
  const tlsCert = decoded(data, SECRET_KEYS.tlsCert);
  const tlsKey = decoded(data, SECRET_KEYS.tlsKey);
  if (tlsCert === undefined || tlsKey === undefined) return undefined;
  const caKey = decoded(data, SECRET_KEYS.caKey);
  return {
    resourceVersion: typeof metadata["resourceVersion"] === "string" ? metadata["resourceVersion"] : "",
    // cert-manager leaves ca.crt empty for some issuers; the serving chain's last certificate is then the CA.
    caBundle: decoded(data, SECRET_KEYS.caBundle) ?? splitPemBundle(tlsCert).at(-1) ?? "",
    ...(caKey === undefined ? {} : { caKey }),
    tlsCert,
    tlsKey,
  };
}

/** Serving material from the Secret, or undefined when it is not there yet. */
export async function readServingMaterial(kube: KubeRequester, namespace: string, name = SECRET_WEBHOOK_TLS): Promise<TlsMaterial | undefined> {
  const secret = await readWebhookSecret(kube, namespace, name);
  return secret === undefined ? undefined : { cert: secret.tlsCert, key: secret.tlsKey };
}

export interface ServingMaterialReloader {
  /** The latest material read; undefined before the first successful read. */
  current(): TlsMaterial | undefined;
  /** Resolves once material was read. */
  readonly ready: Promise<TlsMaterial>;
  stop(): void;
}

/** Every replica: polls the Secret so a renewed certificate is served within `intervalMs`. */
export function reloadServingMaterial(options: {
  readonly kube: KubeRequester;
  readonly namespace: string;
  readonly secretName?: string;
  readonly intervalMs?: number;
  readonly logger: Logger;
}): ServingMaterialReloader {
  let material: TlsMaterial | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let resolveReady: (value: TlsMaterial) => void = () => undefined;
  const ready = new Promise<TlsMaterial>((resolve) => {
    resolveReady = resolve;
  });
  const poll = async (): Promise<void> => {
    try {
      const next = await readServingMaterial(options.kube, options.namespace, options.secretName);
      if (next !== undefined && (next.cert !== material?.cert || next.key !== material.key)) {
        if (material !== undefined) options.logger.info({ secret: options.secretName ?? SECRET_WEBHOOK_TLS }, "webhook serving certificate reloaded");
        material = next;
        resolveReady(next);
      }
    } catch (error) {
      options.logger.warn({ err: error }, "reading the webhook serving certificate failed; keeping the current one");
    }
    if (!stopped) timer = setTimeout(() => void poll(), material === undefined ? 1000 : (options.intervalMs ?? 10_000));
  };
  void poll();
  return {
    current: () => material,
    ready,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
