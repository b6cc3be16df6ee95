// Sidecar composition root: config -> transport -> issuer client -> cache -> refresher, watch, local servers; SIGTERM exits 0.
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { pino } from "pino";
import type { Logger } from "pino";
import type { Config } from "./config.ts";
import { parseConfig } from "./config.ts";
import { ConfigError, SidecarError } from "./errors.ts";
import { nodeTransport } from "./http-transport.ts";
import { generateDpopSigner } from "./dpop-key.ts";
import { issuerClient, type ExchangeOutcome } from "./issuer-client.ts";
import { Metrics } from "./metrics.ts";
import { startLocalServers, type OnDemandResult } from "./server.ts";
import { subjectTokenFile } from "./subject-token.ts";
import { TokenCache } from "./token-cache.ts";
import { tokenFiles } from "./token-files.ts";
import { nodeTimers, TokenService } from "./token-service.ts";
import { abortableSleep, WatchClient } from "./watch-client.ts";

/** A running sidecar; `stop` is what SIGTERM calls. */
export interface Sidecar {
  readonly port: number;
  readonly healthPort: number | undefined;
  readonly metricsPort: number | undefined;
  stop(): Promise<void>;
}

/** Builds and starts every part; exported so tests can run a sidecar in-process. */
export async function startSidecar(config: Config, logger: Logger): Promise<Sidecar> {
  const now = (): Date => new Date();
  const random = Math.random;
  const ca = await readFile(config.issuerCaFile, "utf8");
  const transport = nodeTransport({ ca });
  // The pod's DPoP key lives in this process's memory only: never written, never logged, gone on exit.
  const dpop = generateDpopSigner({ now });
  const issuer = issuerClient({ issuerUrl: config.issuerUrl, transport, dpop, dpopMode: config.dpopMode });
  const subject = subjectTokenFile({ path: config.subjectTokenFile, readFile, now });
  const metrics = new Metrics();
  const cache = new TokenCache({ tokens: config.tokens, now, random });
  const service = new TokenService({
    cache,
    issuer,
    subject,
    files: config.tokenDir === undefined ? undefined : tokenFiles({ dir: config.tokenDir }),
    metrics,
    logger,
    now,
    timers: nodeTimers,
    onIssued: () => {
      watch.nudge();
    },
  });
  const watch: WatchClient = new WatchClient({
    issuer,
    subject,
    metrics,
    logger: logger.child({ component: "watch" }),
    now,
    random,
    sleep: abortableSleep,
    handlers: {
      onChange: (_change, requestedBefore) => {
        service.refreshAll(requestedBefore);
      },
      onGone: () => {
        void service.podGone();
      },
    },
  });
  // The pod's own projected token, read now, is the subject of a grant it asks for and the actor's proof when it acts.
  const onDemand = async (send: (ownToken: string) => Promise<ExchangeOutcome>): Promise<OnDemandResult> => {
    let own: string;
    try {
      own = (await subject.read()).token;
    } catch (err) {
      if (err instanceof SidecarError) return { kind: "unavailable", code: err.code, message: err.message };
      throw err;
    }
    const outcome = await send(own);
    return outcome.kind === "failed" ? { kind: "unavailable", code: outcome.failure.code, message: outcome.failure.message } : outcome;
  };
  const servers = await startLocalServers({
    api: {
      get: (key) => service.get(key),
      keyForName: (name) => service.keyForName(name),
      readiness: () => service.readiness(),
      metricsText: () => metrics.render(service.gauges()),
      proof: (request) => dpop.proof(request),
      delegate: (request) => onDemand((own) => issuer.delegate(own, request)),
      act: (request) => onDemand((own) => issuer.act(own, request)),
    },
    logger: logger.child({ component: "local-api" }),
    now,
    port: config.port,
    socketPath: config.socketPath,
    healthPort: config.healthPort,
    metricsPort: config.metricsPort,
  });
  service.start();
  watch.start();
  logger.info(
    { port: servers.port, healthPort: servers.healthPort, metricsPort: servers.metricsPort, socket: config.socketPath, tokens: config.tokens.map((t) => t.name) },
    "sidecar started",
  );
  return {
    port: servers.port,
    healthPort: servers.healthPort,
    metricsPort: servers.metricsPort,
    async stop() {
      service.stop();
      await Promise.all([watch.stop(), servers.close()]);
      transport.close();
    },
  };
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = pino({
    level: config.logLevel,
    base: { component: "tessera-sidecar", instance: randomUUID().slice(0, 8) },
    // Defence in depth: none of these fields are ever logged on purpose.
    redact: { paths: ["token", "accessToken", "access_token", "subjectToken", "*.token", "*.access_token", "authorization"], censor: "[redacted]" },
  });
  let sidecar: Sidecar;
  try {
    sidecar = await startSidecar(config, logger);
  } catch (err) {
    logger.fatal({ err: err instanceof Error ? err.message : "error" }, "sidecar failed to start");
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    // A native sidecar must never hold a finished Job: exit promptly even if something hangs.
    setTimeout(() => process.exit(0), 3_000).unref();
    sidecar.stop().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.once("SIGTERM", () => {
    shutdown("SIGTERM");
  });
  process.once("SIGINT", () => {
    shutdown("SIGINT");
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
