// Health, readiness and metrics listener: /healthz (alive), /readyz (caches synced and keys loaded), /metrics (injected registry).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { Gauge, type Registry } from "prom-client";
import { PATH_HEALTHZ, PATH_METRICS, PATH_READYZ } from "../../api/constants.ts";

/** One readiness check: undefined when ready, else why not (shown on /readyz). */
export type ReadinessCheck = () => string | undefined;

export interface HealthServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  readonly readiness: Readonly<Record<string, ReadinessCheck>>;
  readonly log: Logger;
}

export interface HealthServer {
  readonly port: number;
  /** Makes /readyz fail at once (graceful shutdown: stop receiving traffic before stopping). */
  drain(): void;
  close(): Promise<void>;
}

/** Evaluates every check; ready only when none reports a problem. */
export function readiness(checks: Readonly<Record<string, ReadinessCheck>>): { ready: boolean; problems: string[] } {
  const problems: string[] = [];
  for (const [name, check] of Object.entries(checks)) {
    const problem = check();
    if (problem !== undefined) problems.push(`${name}: ${problem}`);
  }
  return { ready: problems.length === 0, problems };
}

/**
 * `tessera_ready`: 1 while /readyz would answer 200, read at scrape time. A replica that is up but not ready still
 * serves /metrics, so the alert on it can say "not ready" rather than only "down".
 */
export function readinessMetric(registry: Registry, isReady: () => boolean): void {
  new Gauge({
    name: "tessera_ready",
    help: "1 while this replica is ready (informer caches synced, signing keys loaded, servers listening, not draining).",
    registers: [registry],
    collect() {
      this.set(isReady() ? 1 : 0);
    },
  });
}

export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  let draining = false;
  readinessMetric(opts.registry, () => !draining && readiness(opts.readiness).ready);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    res.setHeader("Cache-Control", "no-store");
    if (req.method !== "GET") {
      res.writeHead(405).end();
      return;
    }
    if (path === PATH_HEALTHZ) {
      res.writeHead(200, { "Content-Type": "text/plain" }).end("ok\n");
      return;
    }
    if (path === PATH_READYZ) {
      const r = readiness(opts.readiness);
      if (draining) r.problems.unshift("shutting down");
      const ok = r.ready && !draining;
      res.writeHead(ok ? 200 : 503, { "Content-Type": "text/plain" }).end(ok ? "ok\n" : `${r.problems.join("\n")}\n`);
      return;
    }
    if (path === PATH_METRICS) {
      opts.registry
        .metrics()
        .then((text) => res.writeHead(200, { "Content-Type": opts.registry.contentType }).end(text))
        .catch((err: unknown) => {
          opts.log.error({ err }, "rendering metrics failed");
          res.writeHead(500).end();
        });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    drain: () => {
      draining = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
