// Revocation store: revoked jtis kept in a ConfigMap in Tessera's namespace so every replica agrees, reloaded periodically.

import { ApiException, type CoreV1Api, type V1ConfigMap } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { CONFIGMAP_REVOCATIONS, LABEL_MANAGED_BY, MANAGED_BY_TESSERA } from "../../../../api/constants.ts";
import { AuditEndpointError } from "./errors.ts";
import {
  addRevocation,
  isRevokedIn,
  parseRevocations,
  serializeRevocations,
  type RevocationEntries,
} from "./revocation-list.ts";
import {
  chargeRevocation,
  parseRevocationCounts,
  pruneRevocationCounts,
  REVOCATION_QUOTA_KEY,
  serializeRevocationCounts,
} from "./revocation-quota.ts";

/** What introspection asks: is this jti revoked? Throws RevocationStoreUnavailable when it cannot know. */
export interface RevocationChecker {
  isRevoked(jti: string): boolean;
}

export interface RevocationStoreOptions {
  readonly core: CoreV1Api;
  /** Tessera's own namespace. */
  readonly namespace: string;
  readonly logger: Logger;
  readonly now: () => Date;
  /** ConfigMap name; CONFIGMAP_REVOCATIONS by default. */
  readonly name?: string;
  /** Unexpired revocations held at most (each ~60 bytes of a 1 MiB ConfigMap); default 10000. */
  readonly maxEntries?: number;
  /** Unexpired revocations one caller may have added, its share of maxEntries; default 1000. */
  readonly maxEntriesPerCaller?: number;
  /**
   * How old the last successful load may be before answers are refused: a replica that lost the apiserver must
   * not keep calling revoked tokens active. Default 60 s; keep it a few reload intervals.
   */
  readonly maxStalenessSeconds?: number;
}

const WRITE_ATTEMPTS = 5;

function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? (error as ApiException<unknown>).code : undefined;
}

export class RevocationStore implements RevocationChecker {
  readonly #core: CoreV1Api;
  readonly #namespace: string;
  readonly #name: string;
  readonly #logger: Logger;
  readonly #now: () => Date;
  readonly #maxEntries: number;
  readonly #maxEntriesPerCaller: number;
  readonly #maxStalenessMs: number;
  #entries: RevocationEntries = new Map();
  #loadedAtMs: number | undefined;

  constructor(options: RevocationStoreOptions) {
    this.#core = options.core;
    this.#namespace = options.namespace;
    this.#name = options.name ?? CONFIGMAP_REVOCATIONS;
    this.#logger = options.logger;
    this.#now = options.now;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#maxEntriesPerCaller = options.maxEntriesPerCaller ?? 1_000;
    this.#maxStalenessMs = (options.maxStalenessSeconds ?? 60) * 1000;
  }

  #nowSeconds(): number {
    return Math.floor(this.#now().getTime() / 1000);
  }

  isRevoked(jti: string): boolean {
    const loadedAt = this.#loadedAtMs;
    if (loadedAt === undefined || this.#now().getTime() - loadedAt > this.#maxStalenessMs) {
      throw new AuditEndpointError("RevocationStoreUnavailable", "the revocation list has not been loaded recently");
    }
    return isRevokedIn(this.#entries, jti, this.#nowSeconds());
  }

  /** Unexpired revoked jtis as loaded (for tests and diagnostics). */
  get size(): number {
    return this.#entries.size;
  }

  async #read(): Promise<V1ConfigMap | undefined> {
    try {
      return await this.#core.readNamespacedConfigMap({ namespace: this.#namespace, name: this.#name });
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** Loads the list from the ConfigMap (absent = empty). */
  async reload(): Promise<void> {
    const startedMs = this.#now().getTime();
    const configMap = await this.#read();
    this.#entries = parseRevocations(configMap?.data);
    this.#loadedAtMs = startedMs;
  }

  /**
   * Adds `jti` (token expiring at `exp`, unix seconds) for `caller` ("namespace/name") with a read-modify-write
   * guarded by resourceVersion, so two replicas revoking at once both land; pruning expired entries on the way keeps
   * the ConfigMap small. A new entry, or one whose exp it extends, counts against the caller's share
   * (RevocationQuotaExceeded beyond it); repeating a revocation already on the list costs nothing.
   */
  async revoke(jti: string, exp: number, caller: string): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      let current: V1ConfigMap | undefined;
      try {
        current = await this.#read();
      } catch (error) {
        throw new AuditEndpointError("RevocationStoreUnavailable", "cannot read the revocation list", { cause: error });
      }
      const nowSeconds = this.#nowSeconds();
      const entries = parseRevocations(current?.data);
      const before = entries.get(jti);
      // The caller's share is checked first, so a caller over it hears so rather than that the whole list is full.
      const adds = exp > nowSeconds && (before === undefined || before <= nowSeconds || exp > before);
      const counts = parseRevocationCounts(current?.data?.[REVOCATION_QUOTA_KEY]);
      const nextCounts = adds
        ? chargeRevocation(counts, caller, exp, nowSeconds, this.#maxEntriesPerCaller)
        : pruneRevocationCounts(counts, nowSeconds);
      const next = addRevocation(entries, jti, exp, nowSeconds, this.#maxEntries);
      try {
        await this.#write(current, next, serializeRevocationCounts(nextCounts));
        this.#entries = next;
        this.#loadedAtMs = this.#now().getTime();
        return;
      } catch (error) {
        const status = statusOf(error);
        if ((status === 409 || status === 422) && attempt < WRITE_ATTEMPTS) continue;
        throw new AuditEndpointError("RevocationStoreUnavailable", "cannot write the revocation list", { cause: error });
      }
    }
  }

  async #write(current: V1ConfigMap | undefined, entries: RevocationEntries, counts: string): Promise<void> {
    const data = { ...serializeRevocations(entries), [REVOCATION_QUOTA_KEY]: counts };
    if (current === undefined) {
      await this.#core.createNamespacedConfigMap({
        namespace: this.#namespace,
        // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain data
        body: { metadata: { name: this.#name, namespace: this.#namespace, labels: { [LABEL_MANAGED_BY]: MANAGED_BY_TESSERA } }, data },
      });
      return;
    }
    // Replace with the resourceVersion we read: a concurrent writer makes this a 409 and we retry from a fresh read.
    await this.#core.replaceNamespacedConfigMap({
      namespace: this.#namespace,
      name: this.#name,
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain data
      body: { apiVersion: "v1", kind: "ConfigMap", metadata: current.metadata ?? {}, data },
    });
  }

  /** Reloads every `intervalMs` until the returned stop function is called; failures are logged and retried. */
  startReloading(intervalMs: number): () => void {
    const tick = (): void => {
      this.reload().catch((error: unknown) => {
        this.#logger.warn({ err: error instanceof Error ? error.message : String(error) }, "revocation list reload failed");
      });
    };
    tick();
    const timer = setInterval(tick, intervalMs);
    timer.unref();
    return () => {
      clearInterval(timer);
    };
  }
}
