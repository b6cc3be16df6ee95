// Where signing keys live: the KeyStore interface and its Secret-backed implementation (optimistic concurrency).
import type { CoreV1Api, V1Secret } from "@kubernetes/client-node";
import { LABEL_MANAGED_BY, MANAGED_BY_TESSERA, SECRET_SIGNING_KEYS } from "../../../../api/constants.ts";
import { IssuerError } from "../errors.ts";
import { SIGNING_ALGORITHMS, type KeyRecord } from "./keys.ts";

/** The stored key set and the version it was read at. */
export interface StoredKeys {
  readonly records: readonly KeyRecord[];
  /** Opaque version for optimistic concurrency; undefined when nothing is stored yet. */
  readonly version?: string;
}

/** Keeps the key set. `save` fails with KeyStoreConflict when the stored version is no longer `version`. */
export interface KeyStore {
  load(): Promise<StoredKeys>;
  save(records: readonly KeyRecord[], version: string | undefined): Promise<void>;
}

/** Data key inside the Secret. */
export const SECRET_KEYS_ENTRY = "keys.json";

/** Serialises records into the Secret's data entry. */
export function encodeKeyRecords(records: readonly KeyRecord[]): string {
  return Buffer.from(JSON.stringify({ keys: records }), "utf8").toString("base64");
}

function isRecord(value: unknown): value is KeyRecord {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r["kid"] === "string" &&
    typeof r["alg"] === "string" &&
    (SIGNING_ALGORITHMS as readonly string[]).includes(r["alg"]) &&
    typeof r["createdAt"] === "string" &&
    typeof r["activateAt"] === "string" &&
    typeof r["privateKeyPem"] === "string"
  );
}

/** Parses the Secret's data entry; throws KeyStoreInvalid when it is damaged. */
export function decodeKeyRecords(base64: string): KeyRecord[] {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(base64, "base64").toString("utf8"));
  } catch (error) {
    throw new IssuerError("KeyStoreInvalid", `the ${SECRET_KEYS_ENTRY} entry is not JSON`, { cause: error });
  }
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || !keys.every(isRecord)) {
    throw new IssuerError("KeyStoreInvalid", `the ${SECRET_KEYS_ENTRY} entry does not hold a list of key records`);
  }
  return keys;
}

function statusOf(error: unknown): number | undefined {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === "number" ? code : undefined;
}

/** The Secret SECRET_SIGNING_KEYS in Tessera's namespace; resourceVersion is the store version. */
export class SecretKeyStore implements KeyStore {
  readonly #api: CoreV1Api;
  readonly #namespace: string;
  readonly #name: string;

  constructor(api: CoreV1Api, namespace: string, name: string = SECRET_SIGNING_KEYS) {
    this.#api = api;
    this.#namespace = namespace;
    this.#name = name;
  }

  async load(): Promise<StoredKeys> {
    let secret: V1Secret;
    try {
      secret = await this.#api.readNamespacedSecret({ namespace: this.#namespace, name: this.#name });
    } catch (error) {
      if (statusOf(error) === 404) return { records: [] };
      throw new IssuerError("UpstreamUnavailable", `reading Secret ${this.#namespace}/${this.#name} failed`, { cause: error });
    }
    const entry = secret.data?.[SECRET_KEYS_ENTRY];
    const records = entry === undefined ? [] : decodeKeyRecords(entry);
    return { records, ...(secret.metadata?.resourceVersion === undefined ? {} : { version: secret.metadata.resourceVersion }) };
  }

  async save(records: readonly KeyRecord[], version: string | undefined): Promise<void> {
    /* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain data */
    const body: V1Secret = {
      apiVersion: "v1",
      kind: "Secret",
      type: "Opaque",
      metadata: {
        name: this.#name,
        namespace: this.#namespace,
        labels: { [LABEL_MANAGED_BY]: MANAGED_BY_TESSERA },
        ...(version === undefined ? {} : { resourceVersion: version }),
      },
      data: { [SECRET_KEYS_ENTRY]: encodeKeyRecords(records) },
    };
    /* eslint-enable @typescript-eslint/no-unsafe-class-instance-assignment */
    try {
      if (version === undefined) {
        await this.#api.createNamespacedSecret({ namespace: this.#namespace, body });
      } else {
        await this.#api.replaceNamespacedSecret({ namespace: this.#namespace, name: this.#name, body });
      }
    } catch (error) {
      const status = statusOf(error);
      if (status === 409 || status === 404) {
        throw new IssuerError("KeyStoreConflict", `Secret ${this.#namespace}/${this.#name} changed since it was read`, {
          cause: error,
        });
      }
      throw new IssuerError("UpstreamUnavailable", `writing Secret ${this.#namespace}/${this.#name} failed`, { cause: error });
    }
  }
}

/** An in-memory KeyStore with the same concurrency rule (tests, single-process tools). */
export class MemoryKeyStore implements KeyStore {
  #records: readonly KeyRecord[] = [];
  #version = 0;

  load(): Promise<StoredKeys> {
    return Promise.resolve(this.#version === 0 ? { records: [] } : { records: this.#records, version: String(this.#version) });
  }

  save(records: readonly KeyRecord[], version: string | undefined): Promise<void> {
    const expected = this.#version === 0 ? undefined : String(this.#version);
    if (version !== expected) {
      return Promise.reject(new IssuerError("KeyStoreConflict", "the key set changed since it was read"));
    }
    this.#records = [...records];
    this.#version += 1;
    return Promise.resolve();
  }
}
