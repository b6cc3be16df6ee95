// Publishes the issuer CA bundle as a ConfigMap in every namespace that needs it: gather from caches, decide (pure), write only on change.
import type { Logger } from "pino";
import { LABEL_MANAGED_BY, MANAGED_BY_TESSERA, SECRET_WEBHOOK_TLS } from "../../../api/constants.ts";
import type { EventRecorder } from "./event-recorder.ts";
import type { Caches } from "./gather.ts";
import {
  decideIssuerCa,
  excludedNamespaces,
  ISSUER_CA_KEY,
  issuerCaBundle,
  namespaceNeedsIssuerCa,
  type FoundConfigMap,
} from "./issuer-ca.ts";
import { expectOk, type KubeClient } from "../kube/kube-http.ts";
import type { Leadership } from "./leader.ts";
import type { CachedSecret } from "./objects.ts";
import type { Store } from "./store.ts";
import type { ReconcileResult } from "./worker.ts";

export interface IssuerCaMetrics {
  /** A create or update of a published ConfigMap. */
  written(action: "create" | "update"): void;
  /** Namespaces where a ConfigMap of that name exists that Tessera did not create. */
  foreign(count: number): void;
}

export interface IssuerCaPublisherOptions {
  readonly client: KubeClient;
  readonly caches: Pick<Caches, "pods" | "namespaces">;
  /** Tessera's Secrets cache; the serving Secret's ca.crt is the bundle. */
  readonly secrets: Store<CachedSecret>;
  readonly tesseraNamespace: string;
  /** Name of the ConfigMap the webhook mounts (config issuerCaConfigMap). */
  readonly configMapName: string;
  readonly leadership: Leadership;
  readonly events: EventRecorder;
  readonly log: Logger;
  readonly metrics?: IssuerCaMetrics;
  readonly fieldManager: string;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function strings(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record(value) ?? {})) if (typeof v === "string") out[k] = v;
  return out;
}

export class IssuerCaPublisher {
  readonly #opts: IssuerCaPublisherOptions;
  readonly #excluded: ReadonlySet<string>;
  /** Namespaces whose ConfigMap belongs to someone else, for the metric and to log each once. */
  readonly #foreign = new Set<string>();

  constructor(opts: IssuerCaPublisherOptions) {
    this.#opts = opts;
    this.#excluded = excludedNamespaces(opts.tesseraNamespace);
  }

  #path(namespace: string, name?: string): string {
    return `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps${name === undefined ? "" : `/${encodeURIComponent(name)}`}`;
  }

  /** Level-based, keyed by namespace: the same caches and ConfigMap give the same decision, and no write when equal. */
  async reconcile(namespace: string): Promise<ReconcileResult | undefined> {
    const { caches, leadership, configMapName, log } = this.#opts;
    if (!leadership.isLeader()) return undefined;
    const needed = namespaceNeedsIssuerCa(caches.namespaces.get(namespace), caches.pods.inNamespace(namespace), this.#excluded);
    const bundle = issuerCaBundle(this.#opts.secrets.get(`${this.#opts.tesseraNamespace}/${SECRET_WEBHOOK_TLS}`));
    // Read only where the answer matters: a namespace that needs nothing costs no request.
    const found = needed && bundle !== undefined ? await this.#read(namespace) : undefined;
    const decision = decideIssuerCa(needed, bundle, found);
    if (decision.action !== "leave foreign") this.#setForeign(namespace, false);
    switch (decision.action) {
      case "none":
        return undefined;
      case "leave foreign":
        if (found !== undefined) await this.#reportForeign(namespace, found, decision.trustsCurrentCa);
        return undefined;
      case "create":
      case "update":
        if (bundle === undefined || !leadership.isLeader()) return undefined;
        await this.#write(namespace, bundle, decision.action === "update" ? decision.resourceVersion : undefined);
        this.#opts.metrics?.written(decision.action);
        log.info({ namespace, configMap: configMapName, action: decision.action }, "published the issuer CA bundle");
        return undefined;
    }
  }

  async #read(namespace: string): Promise<FoundConfigMap | undefined> {
    const res = await this.#opts.client.request("GET", this.#path(namespace, this.#opts.configMapName));
    if (res.status === 404) return undefined;
    const body = record(expectOk(res, "get issuer CA ConfigMap"));
    const meta = record(body?.["metadata"]);
    return {
      uid: typeof meta?.["uid"] === "string" ? meta["uid"] : "",
      resourceVersion: typeof meta?.["resourceVersion"] === "string" ? meta["resourceVersion"] : "",
      labels: strings(meta?.["labels"]),
      data: strings(body?.["data"]),
    };
  }

  async #write(namespace: string, bundle: string, resourceVersion: string | undefined): Promise<void> {
    const { client, configMapName, fieldManager } = this.#opts;
    const query = `?fieldManager=${encodeURIComponent(fieldManager)}`;
    const labels = { [LABEL_MANAGED_BY]: MANAGED_BY_TESSERA };
    if (resourceVersion === undefined) {
      const res = await client.request("POST", `${this.#path(namespace)}${query}`, {
        body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: configMapName, namespace, labels }, data: { [ISSUER_CA_KEY]: bundle } },
      });
      // 409: created meanwhile (by another writer or a replaced one); the error requeues and the next reconcile reads it.
      expectOk(res, "create issuer CA ConfigMap");
      return;
    }
    // resourceVersion makes the patch conditional: a ConfigMap replaced by someone else since the read is never overwritten.
    const res = await client.request("PATCH", `${this.#path(namespace, configMapName)}${query}`, {
      body: { metadata: { resourceVersion }, data: { [ISSUER_CA_KEY]: bundle } },
      contentType: "application/merge-patch+json",
    });
    // 404 (deleted since the read) and 409 (changed since the read) requeue: the next reconcile decides afresh.
    expectOk(res, "update issuer CA ConfigMap");
  }

  #setForeign(namespace: string, foreign: boolean): void {
    const changed = foreign ? !this.#foreign.has(namespace) : this.#foreign.delete(namespace);
    if (foreign) this.#foreign.add(namespace);
    if (changed) this.#opts.metrics?.foreign(this.#foreign.size);
  }

  async #reportForeign(namespace: string, found: FoundConfigMap, trustsCurrentCa: boolean): Promise<void> {
    const { configMapName, log } = this.#opts;
    if (!this.#foreign.has(namespace)) {
      log.info({ namespace, configMap: configMapName, trustsCurrentCa }, "issuer CA ConfigMap is not managed by Tessera; left as it is");
    }
    this.#setForeign(namespace, true);
    const involved = { apiVersion: "v1", kind: "ConfigMap", name: configMapName, namespace, uid: found.uid };
    await this.#opts.events.emit(
      involved,
      trustsCurrentCa
        ? {
            type: "Normal",
            reason: "IssuerCaNotManaged",
            message: `ConfigMap ${configMapName} was not created by Tessera (no ${LABEL_MANAGED_BY}=${MANAGED_BY_TESSERA} label), so Tessera leaves it as it is; it trusts the issuer's current CA.`,
          }
        : {
            type: "Warning",
            reason: "IssuerCaOutdated",
            message: `ConfigMap ${configMapName} was not created by Tessera (no ${LABEL_MANAGED_BY}=${MANAGED_BY_TESSERA} label), so Tessera leaves it as it is, but its ${ISSUER_CA_KEY} lacks the issuer's current CA: sidecars in this namespace cannot reach the issuer.`,
          },
    );
  }
}
