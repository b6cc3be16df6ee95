// Entry point of the controller process: parse the config once, build the controller, start it, stop it on a signal.
import { KubeConfig } from "@kubernetes/client-node";
import { buildController } from "./app/build-controller.ts";
import { ConfigError, parseConfig, type Config } from "./config.ts";
import { createLogger } from "./logging.ts";

function loadConfig(): Config {
  try {
    return parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

function kubeConfigFor(config: Config): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfig === undefined) kc.loadFromCluster();
  else kc.loadFromFile(config.kubeconfig);
  return kc;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, { pod: config.podName });
  const controller = buildController(config, { kubeConfig: kubeConfigFor(config), logger: log });
  // Registered before anything slow starts, so a signal during start-up still hands the lease over.
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    void controller.stop().then(() => {
      log.info("stopped");
      process.exit(0);
    });
  };
  process.on("SIGTERM", () => {
    stop("SIGTERM");
  });
  process.on("SIGINT", () => {
    stop("SIGINT");
  });
  await controller.start();
}

main().catch((err: unknown) => {
  process.stderr.write(`tessera controller failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
