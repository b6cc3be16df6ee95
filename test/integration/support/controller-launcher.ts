// The one way the tests, the demo and the bench start the controller program: environment from api/constants.ts names.
//
// `controllerCommand` is the launcher: it turns typed settings into the exact command line and environment the
// controller runs with (from source under tsx, or the tsc output the image runs). `spawnController` runs that command
// for the tests; the demo and the bench hand the same command to their own process runners, which add what they
// need (output shown to a person; a pinned CPU and a log file).
import { spawn, type ChildProcess } from "node:child_process";
import {
  ENV_ADMISSION_PORT,
  ENV_BIND_ADDRESS,
  ENV_CLUSTER_ENVIRONMENT,
  ENV_CLUSTER_NAME,
  ENV_CONTROLLER_NAMESPACE,
  ENV_CONTROLLER_POD_NAME,
  ENV_EXPLAIN_CALLERS,
  ENV_HEALTH_PORT,
  ENV_INTROSPECT_CALLERS,
  ENV_ISSUER_PORT,
  ENV_ISSUER_PUBLIC_URL,
  ENV_KUBECONFIG,
  ENV_LOG_LEVEL,
  ENV_REVOKE_CALLERS,
  ENV_SERVICE_ACCOUNT_ISSUER,
  ENV_SERVING_DNS_NAMES,
  ENV_SIDECAR_IMAGE,
  ENV_SIGNING_ALGORITHM,
  ENV_TLS_MODE,
  ENV_TOKEN_REVIEW_MODE,
  PATH_READYZ,
} from "../../../api/constants.ts";
import { freeLoopbackPorts } from "../../controlplane/ports.ts";
import { REPO_ROOT } from "./crds.ts";

/** The controller's entry point in the repository, run from source. */
export const CONTROLLER_SOURCE_ENTRY = "controller/src/main.ts";
/** Where the controller binds: loopback only, in every harness. */
const BIND_ADDRESS = "127.0.0.1";

export interface ControllerPorts {
  readonly issuer: number;
  readonly admission: number;
  readonly health: number;
}

export async function freeControllerPorts(): Promise<ControllerPorts> {
  const [issuer = 0, admission = 0, health = 0] = await freeLoopbackPorts(3);
  return { issuer, admission, health };
}

/** Everything that differs between one harness's controller and another's. */
export interface ControllerSettings {
  readonly kubeconfigPath: string;
  readonly namespace: string;
  readonly podName: string;
  readonly ports: ControllerPorts;
  /** The cluster's service-account issuer; left to the controller's own default (or baseEnv) when unset. */
  readonly serviceAccountIssuer?: string;
  readonly clusterName?: string;
  readonly environment?: string;
  readonly sidecarImage?: string;
  /**
   * The host in the issuer's public URL. localhost (the default): the self-managed serving certificate carries the
   * configured DNS names, and whoever dials the issuer must find the name it dialled there.
   */
  readonly issuerHost?: "localhost" | "127.0.0.1";
  /**
   * The issuer URL every replica puts in its tokens when several share one (a Service in front of them); by default
   * each replica's own URL from issuerHost and its port.
   */
  readonly issuerPublicUrl?: string;
  /** DNS names for the serving certificate, comma-separated; localhost by default. */
  readonly servingDnsNames?: string;
  readonly tlsMode?: "self-managed" | "cert-manager";
  readonly subjectVerification?: "jwks" | "tokenreview";
  readonly signingAlgorithm?: string;
  readonly callers?: { readonly introspect?: string; readonly revoke?: string; readonly explain?: string };
  readonly logLevel?: string;
  /** Set first and overridden by every setting above (e.g. the env of the chart's rendered Deployment). */
  readonly baseEnv?: Readonly<Record<string, string>>;
}

export function issuerUrlOf(settings: Pick<ControllerSettings, "issuerHost" | "ports">): string {
  return `https://${settings.issuerHost ?? "localhost"}:${String(settings.ports.issuer)}`;
}

/** The controller's environment: only what the settings say, plus PATH and HOME so node and tsx run. */
export function controllerEnvironment(s: ControllerSettings): Record<string, string> {
  const optional = (name: string, value: string | undefined): Record<string, string> => (value === undefined ? {} : { [name]: value });
  return {
    PATH: process.env["PATH"] ?? "",
    HOME: process.env["HOME"] ?? "",
    ...s.baseEnv,
    [ENV_KUBECONFIG]: s.kubeconfigPath,
    [ENV_CONTROLLER_NAMESPACE]: s.namespace,
    [ENV_CONTROLLER_POD_NAME]: s.podName,
    [ENV_ISSUER_PUBLIC_URL]: s.issuerPublicUrl ?? issuerUrlOf(s),
    [ENV_ISSUER_PORT]: String(s.ports.issuer),
    [ENV_ADMISSION_PORT]: String(s.ports.admission),
    [ENV_HEALTH_PORT]: String(s.ports.health),
    [ENV_BIND_ADDRESS]: BIND_ADDRESS,
    [ENV_SERVING_DNS_NAMES]: s.servingDnsNames ?? "localhost",
    ...optional(ENV_SERVICE_ACCOUNT_ISSUER, s.serviceAccountIssuer),
    ...optional(ENV_CLUSTER_NAME, s.clusterName),
    ...optional(ENV_CLUSTER_ENVIRONMENT, s.environment),
    ...optional(ENV_SIDECAR_IMAGE, s.sidecarImage),
    ...optional(ENV_TLS_MODE, s.tlsMode),
    ...optional(ENV_TOKEN_REVIEW_MODE, s.subjectVerification),
    ...optional(ENV_SIGNING_ALGORITHM, s.signingAlgorithm),
    ...optional(ENV_INTROSPECT_CALLERS, s.callers?.introspect),
    ...optional(ENV_REVOKE_CALLERS, s.callers?.revoke),
    ...optional(ENV_EXPLAIN_CALLERS, s.callers?.explain),
    ...optional(ENV_LOG_LEVEL, s.logLevel),
  };
}

export interface ControllerEntry {
  /** Script path, relative to the repository root or absolute. */
  readonly script: string;
  /** tsx: TypeScript source; plain: JavaScript run by node alone (the tsc output, as the image runs it). */
  readonly loader: "tsx" | "plain";
}

export interface ControllerCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly issuerUrl: string;
  readonly readyzUrl: string;
  readonly ports: ControllerPorts;
}

/** The command line and environment that start the controller with these settings. */
export function controllerCommand(
  settings: ControllerSettings,
  options: { readonly entry?: ControllerEntry; readonly nodeArgs?: readonly string[] } = {},
): ControllerCommand {
  const entry = options.entry ?? { script: CONTROLLER_SOURCE_ENTRY, loader: "tsx" };
  return {
    command: process.execPath,
    args: [...(options.nodeArgs ?? []), ...(entry.loader === "tsx" ? ["--import", "tsx"] : []), entry.script],
    cwd: REPO_ROOT,
    env: controllerEnvironment(settings),
    issuerUrl: issuerUrlOf(settings),
    readyzUrl: `http://${BIND_ADDRESS}:${String(settings.ports.health)}${PATH_READYZ}`,
    ports: settings.ports,
  };
}

export interface SpawnedController {
  readonly child: ChildProcess;
  readonly issuerUrl: string;
  readonly readyzUrl: string;
  readonly ports: ControllerPorts;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** The status of GET /readyz, or 0 while nothing answers. */
  readyzStatus(): Promise<number>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code once it has ended. */
  stop(graceMs?: number): Promise<number | null>;
}

/** Spawns the controller for a test, keeping its output for failure messages. */
export function spawnController(settings: ControllerSettings): SpawnedController {
  const cmd = controllerCommand(settings);
  const child = spawn(cmd.command, [...cmd.args], { cwd: cmd.cwd, env: cmd.env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (output += c.toString("utf8")));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      exitCode = code;
      resolve(code);
    });
  });
  return {
    child,
    issuerUrl: cmd.issuerUrl,
    readyzUrl: cmd.readyzUrl,
    ports: cmd.ports,
    output: () => output,
    async readyzStatus() {
      try {
        return (await fetch(cmd.readyzUrl)).status;
      } catch {
        return 0;
      }
    },
    async stop(graceMs = 15_000) {
      if (exitCode !== undefined) return exitCode;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
