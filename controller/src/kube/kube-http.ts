// Thin Kubernetes REST shell: JSON requests and streaming watches over the credentials of a client-node KubeConfig.
import { request as httpsRequest, type RequestOptions } from "node:https";
import { request as httpRequest } from "node:http";
import { Watch, type KubeConfig } from "@kubernetes/client-node";
import { AgentCache } from "./agent-cache.ts";
import { KubeError, codeForStatus } from "./errors.ts";

export interface KubeResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface RequestInit {
  readonly body?: unknown;
  readonly contentType?: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** A running watch; abort() ends it and its onDone fires once. */
export interface WatchHandle {
  abort(): void;
}

/** What the informers, reconcilers and the lease loop need from the apiserver. */
/** The one call the TLS and webhook shells need; KubeClient satisfies it, and tests pass a narrower fake. */
export interface KubeRequester {
  request(
    method: string,
    path: string,
    init?: { readonly body?: unknown; readonly contentType?: string },
  ): Promise<{ readonly status: number; readonly body: unknown }>;
}

export interface KubeClient {
  /** Sends one request; resolves with any HTTP status (callers decide), rejects on transport errors. */
  request(method: string, path: string, init?: RequestInit): Promise<KubeResponse>;
  /** Opens a watch stream; onEvent per line, onDone once when it ends (err undefined on a clean close). */
  watch(
    path: string,
    query: Readonly<Record<string, string>>,
    onEvent: (type: string, object: unknown) => void,
    onDone: (err: unknown) => void,
  ): Promise<WatchHandle>;
}

/** Throws a coded error unless the status is 2xx; returns the body. */
export function expectOk(res: KubeResponse, what: string): unknown {
  if (res.status >= 200 && res.status < 300) return res.body;
  const message =
    typeof res.body === "object" && res.body !== null && "message" in res.body && typeof res.body.message === "string"
      ? res.body.message
      : `HTTP ${res.status}`;
  throw new KubeError(codeForStatus(res.status), `${what}: ${message}`, { status: res.status });
}

const DEFAULT_TIMEOUT_MS = 15_000;
/** A KubeClient over a KubeConfig (kubeconfig file or in-cluster); credentials are re-read for every request. */
export function kubeClientFromConfig(kubeConfig: KubeConfig): KubeClient {
  const watcher = new Watch(kubeConfig);
  const agents = new AgentCache();
  return {
    async request(method, path, init) {
      const cluster = kubeConfig.getCurrentCluster();
      if (cluster === null) throw new KubeError("KUBE_REQUEST_FAILED", "kubeconfig has no current cluster");
      const url = new URL(cluster.server + path);
      const opts: RequestOptions = { method, headers: { Accept: "application/json" } };
      await kubeConfig.applyToHTTPSOptions(opts);
      opts.agent = agents.reuse(opts.agent, opts);
      const payload = init?.body === undefined ? undefined : JSON.stringify(init.body);
      const headers: Record<string, string | number> = { ...(opts.headers as Record<string, string>) };
      if (payload !== undefined) {
        headers["Content-Type"] = init?.contentType ?? "application/json";
        headers["Content-Length"] = Buffer.byteLength(payload);
      }
      const send = url.protocol === "https:" ? httpsRequest : httpRequest;
      return await new Promise<KubeResponse>((resolve, reject) => {
        const req = send(
          url,
          { ...opts, headers, timeout: init?.timeoutMs ?? DEFAULT_TIMEOUT_MS, ...(init?.signal ? { signal: init.signal } : {}) },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("error", reject);
            res.on("end", () => {
              const text = Buffer.concat(chunks).toString("utf8");
              let body: unknown = text;
              try {
                body = text === "" ? undefined : JSON.parse(text);
              } catch {
                // Non-JSON bodies (proxies, panics) are kept as text for the error message.
              }
              resolve({ status: res.statusCode ?? 0, body });
            });
          },
        );
        req.on("timeout", () => req.destroy(new KubeError("KUBE_REQUEST_FAILED", `${method} ${path} timed out`)));
        req.on("error", reject);
        if (payload !== undefined) req.write(payload);
        req.end();
      });
    },
    async watch(path, query, onEvent, onDone) {
      const controller = await watcher.watch(path, query, (type, obj) => { onEvent(type, obj as unknown); }, onDone);
      return { abort: () => { controller.abort(); } };
    },
  };
}
