// Controller configuration: flags and env parsed once into a frozen Config; one error lists every problem.
import { isIP } from "node:net";
import {
  DEFAULT_TESSERA_AUDIENCE,
  ENV_ADMISSION_PORT,
  ENV_BIND_ADDRESS,
  ENV_CLUSTER_ENVIRONMENT,
  ENV_CLUSTER_NAME,
  ENV_CONTROLLER_NAMESPACE,
  ENV_CONTROLLER_POD_NAME,
  ENV_HEALTH_PORT,
  ENV_INJECT_SIDECAR_METRICS_PORT,
  ENV_ISSUER_PORT,
  ENV_ISSUER_PUBLIC_URL,
  ENV_KEY_ROTATION_SECONDS,
  ENV_KUBECONFIG,
  ENV_LEASE_DURATION_SECONDS,
  ENV_LOG_LEVEL,
  ENV_MAX_TOKEN_TTL_SECONDS,
  ENV_RENEW_DEADLINE_SECONDS,
  ENV_RETRY_PERIOD_SECONDS,
  ENV_EXPLAIN_CALLERS,
  ENV_INTROSPECT_CALLERS,
  ENV_ISSUER_CA_CONFIGMAP,
  ENV_PUBLISH_ISSUER_CA,
  ENV_REVOKE_CALLERS,
  ENV_SERVICE_ACCOUNT_ISSUER,
  ENV_SERVING_DNS_NAMES,
  ENV_SIDECAR_IMAGE,
  ENV_SIGNING_ALGORITHM,
  ENV_SUBJECT_AUDIENCE,
  ENV_TLS_MODE,
  ENV_TOKEN_REVIEW_MODE,
  ENV_MAX_AUDIENCES_PER_POD,
  ENV_MAX_REVOCATIONS_PER_CALLER,
  ENV_MAX_WATCHERS_PER_POD,
  ENV_POD_EXCHANGE_BURST,
  ENV_POD_EXCHANGES_PER_SECOND,
  ENV_TOKEN_REVIEW_BURST,
  ENV_TOKEN_REVIEWS_PER_SECOND,
  MAX_AUDIENCES_PER_POD,
} from "../../api/constants.ts";
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from "./issuer/keys/keys.ts";

export type TlsMode = "self-managed" | "cert-manager";

/**
 * Fixed key timing: a new key is published 10 minutes before it signs, which covers the JWKS max-age the issuer
 * announces (5 min) plus the replicas' key reload interval (30 s), with margin.
 */
export const KEY_PRE_PUBLICATION_SECONDS = 600;
export const KEY_RELOAD_SECONDS = 30;
/** The shortest and longest ttlSeconds a policy may set (the CRD's bounds). */
// Short by default (an hour); an operator may raise the cap to a day for workloads that cannot refresh often.
const TOKEN_TTL_BOUNDS = { min: 60, max: 86_400, default: 3600 };
/** The revocation list's global bound (each entry ~60 bytes of a 1 MiB ConfigMap); a caller's share is at most this. */
export const REVOCATION_LIST_MAX_ENTRIES = 10_000;

/**
 * Default caps. A legitimate sidecar holds one watch; exchanges per audience at about half a token's lifetime
 * (30 s at the shortest TTL, 60 s), so 16 audiences average about 0.5 exchanges a second, and a start-up or a
 * re-issuance wake-up exchanges every audience at once (16) plus any on-demand tokens. 5 a second with a burst of
 * 50 leaves a wide margin above that while a looping pod is held to a few exchanges a second. Revocations: a tenth
 * of the list per caller, so ten callers at their limit still leave room. TokenReviews: only a token the replica
 * has not reviewed before reaches the apiserver (an accepted one is remembered until it expires), and a sidecar's
 * projected token rotates about hourly, so 50 a second covers a new token for each of 100,000 pods an hour with
 * room to spare, while a flood of forged tokens or garbage bearer tokens costs the apiserver no more than that.
 */
export const DEFAULT_LIMITS = {
  watchersPerPod: 4,
  revocationsPerCaller: 1_000,
  podExchangesPerSecond: 5,
  podExchangeBurst: 50,
  tokenReviewsPerSecond: 50,
  tokenReviewBurst: 100,
} as const;
export type TokenReviewMode = "tokenreview" | "jwks";

/** Ports the injected sidecar always uses inside the pod: its loopback token endpoint and its probe listener. */
export const INJECTED_SIDECAR_PORTS = { token: 8777, health: 8779 } as const;

export interface Config {
  readonly namespace: string;
  readonly podName: string;
  readonly clusterName: string;
  readonly environment: string;
  readonly issuerUrl: string;
  readonly subjectAudience: string;
  readonly bindAddress: string;
  readonly ports: { readonly issuer: number; readonly admission: number; readonly health: number };
  readonly lease: { readonly durationMs: number; readonly renewDeadlineMs: number; readonly retryPeriodMs: number };
  /** Serving certificate names: DNS names and IP addresses (an issuer URL may name either). */
  readonly tls: { readonly mode: TlsMode; readonly dnsNames: readonly string[]; readonly ipAddresses: readonly string[] };
  /** `iss` of the cluster's projected service-account tokens. */
  readonly serviceAccountIssuer: string;
  readonly sidecarImage: string;
  /** Port of the metrics listener the injected sidecar opens on the pod IP; undefined opens none. */
  readonly sidecarMetricsPort: number | undefined;
  readonly issuerCaConfigMap: string;
  /** The leader publishes issuerCaConfigMap into the namespaces that need it (off: the operator's tooling does). */
  readonly publishIssuerCa: boolean;
  /** Service accounts allowed to call the audit endpoints ("namespace/name" or "namespace/*"); empty denies all. */
  readonly callers: { readonly introspect: readonly string[]; readonly revoke: readonly string[]; readonly explain: readonly string[] };
  readonly tokenReviewMode: TokenReviewMode;
  /** Signing keys; the shape of IssuerConfig.signing. */
  readonly signing: {
    readonly algorithm: SigningAlgorithm;
    readonly rotationSeconds: number;
    readonly prePublicationSeconds: number;
    /** Longest token lifetime: longer grants are clamped, superseded keys stay published this long after they last sign. */
    readonly maxTokenTtlSeconds: number;
    readonly reloadSeconds: number;
  };
  /** Caps so one pod or caller cannot starve or fill anything (docs/issuer.md, docs/admission.md). */
  readonly limits: {
    readonly audiencesPerPod: number;
    readonly watchersPerPod: number;
    readonly revocationsPerCaller: number;
    readonly podExchangesPerSecond: number;
    readonly podExchangeBurst: number;
    /** The replica's budget of TokenReviews sent to the apiserver (subject tokens and audit callers). */
    readonly tokenReviewsPerSecond: number;
    readonly tokenReviewBurst: number;
  };
  /** Path of a kubeconfig, or undefined for in-cluster credentials. */
  readonly kubeconfig: string | undefined;
  readonly logLevel: string;
}

export class ConfigError extends Error {
  readonly code = "INVALID_CONFIG" as const;
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid controller configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** env name -> flag name: TESSERA_CLUSTER_NAME -> cluster-name (KUBECONFIG -> kubeconfig). */
function flagName(env: string): string {
  return env.replace(/^TESSERA_/, "").toLowerCase().replace(/_/g, "-");
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const CALLER = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?|\*)$/;
const LOG_LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/** Parses `--name=value` / `--name value` flags; flags win over env. */
function parseFlags(argv: readonly string[], problems: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--")) {
      problems.push(`unexpected argument ${JSON.stringify(arg)}`);
      continue;
    }
    const eq = arg.indexOf("=");
    if (eq > 0) out.set(arg.slice(2, eq), arg.slice(eq + 1));
    else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) problems.push(`flag ${arg} needs a value`);
      else {
        out.set(arg.slice(2), next);
        i++;
      }
    }
  }
  return out;
}

export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Config {
  const problems: string[] = [];
  const flags = parseFlags(argv, problems);
  const known = new Set<string>();
  const raw = (envName: string): string | undefined => {
    const flag = flagName(envName);
    known.add(flag);
    const v = flags.get(flag) ?? env[envName];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };
  const required = (envName: string, what: string): string => {
    const v = raw(envName);
    if (v === undefined) problems.push(`${what} is required (--${flagName(envName)} or ${envName})`);
    return v ?? "";
  };
  const dnsLabel = (envName: string, what: string): string => {
    const v = required(envName, what);
    if (v !== "" && !DNS_LABEL.test(v)) problems.push(`${what} ${JSON.stringify(v)} must be a DNS label (lowercase letters, digits, '-')`);
    return v;
  };
  const port = (envName: string, fallback: number): number => {
    const v = raw(envName);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 65535) problems.push(`${envName} must be a port number 1-65535, got ${JSON.stringify(v)}`);
    return n;
  };
  const seconds = (envName: string, fallback: number): number => {
    const v = raw(envName);
    if (v === undefined) return fallback * 1000;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) problems.push(`${envName} must be a positive number of seconds, got ${JSON.stringify(v)}`);
    return n * 1000;
  };
  const oneOf = <T extends string>(envName: string, allowed: readonly T[], fallback: T): T => {
    const v = raw(envName) ?? fallback;
    if (!(allowed as readonly string[]).includes(v)) problems.push(`${envName} must be one of ${allowed.join(", ")}, got ${JSON.stringify(v)}`);
    return v as T;
  };

  const namespace = dnsLabel(ENV_CONTROLLER_NAMESPACE, "namespace");
  const podName = raw(ENV_CONTROLLER_POD_NAME) ?? env["HOSTNAME"] ?? "";
  if (podName === "") problems.push(`pod name is required for leader election (--${flagName(ENV_CONTROLLER_POD_NAME)} or ${ENV_CONTROLLER_POD_NAME})`);
  const clusterName = dnsLabel(ENV_CLUSTER_NAME, "cluster name");
  const environment = dnsLabel(ENV_CLUSTER_ENVIRONMENT, "environment");
  const issuerUrl = required(ENV_ISSUER_PUBLIC_URL, "issuer URL");
  if (issuerUrl !== "") {
    let url: URL | undefined;
    try {
      url = new URL(issuerUrl);
    } catch {
      problems.push(`issuer URL ${JSON.stringify(issuerUrl)} is not a URL`);
    }
    if (url !== undefined && (url.protocol !== "https:" || url.search !== "" || url.hash !== "")) {
      problems.push(`issuer URL ${JSON.stringify(issuerUrl)} must be https with no query or fragment`);
    }
  }
  const subjectAudience = raw(ENV_SUBJECT_AUDIENCE) ?? DEFAULT_TESSERA_AUDIENCE;
  const bindAddress = raw(ENV_BIND_ADDRESS) ?? "0.0.0.0";
  const ports = { issuer: port(ENV_ISSUER_PORT, 8443), admission: port(ENV_ADMISSION_PORT, 9443), health: port(ENV_HEALTH_PORT, 8080) };
  if (new Set(Object.values(ports)).size !== 3) problems.push(`issuer, admission and health ports must differ (${ports.issuer}, ${ports.admission}, ${ports.health})`);
  const lease = {
    durationMs: seconds(ENV_LEASE_DURATION_SECONDS, 15),
    renewDeadlineMs: seconds(ENV_RENEW_DEADLINE_SECONDS, 10),
    retryPeriodMs: seconds(ENV_RETRY_PERIOD_SECONDS, 2),
  };
  // A leader must give up before a follower may take over, and must get several renewal tries before that.
  if (lease.renewDeadlineMs >= lease.durationMs) problems.push(`${ENV_RENEW_DEADLINE_SECONDS} must be shorter than ${ENV_LEASE_DURATION_SECONDS}`);
  if (lease.retryPeriodMs >= lease.renewDeadlineMs) problems.push(`${ENV_RETRY_PERIOD_SECONDS} must be shorter than ${ENV_RENEW_DEADLINE_SECONDS}`);
  const tlsMode = oneOf<TlsMode>(ENV_TLS_MODE, ["self-managed", "cert-manager"], "self-managed");
  let issuerHost = "";
  try {
    issuerHost = new URL(issuerUrl).hostname;
  } catch {
    // Reported above.
  }
  const servingNames = (raw(ENV_SERVING_DNS_NAMES) ?? [`tessera.${namespace}.svc`, issuerHost].join(","))
    .split(",")
    // URL hostnames write IPv6 addresses in brackets; a certificate's IP SAN has none.
    .map((n) => n.trim().replace(/^\[(.*)\]$/, "$1"))
    .filter((n) => n !== "");
  // An IP address must be an IP SAN: clients never match an address against a DNS name.
  const dnsNames = servingNames.filter((n) => isIP(n) === 0);
  const ipAddresses = servingNames.filter((n) => isIP(n) !== 0);
  const serviceAccountIssuer = raw(ENV_SERVICE_ACCOUNT_ISSUER) ?? "https://kubernetes.default.svc.cluster.local";
  const sidecarImage = required(ENV_SIDECAR_IMAGE, "sidecar image");
  const sidecarMetricsPort = raw(ENV_INJECT_SIDECAR_METRICS_PORT) === undefined ? undefined : port(ENV_INJECT_SIDECAR_METRICS_PORT, 0);
  if (sidecarMetricsPort !== undefined && (Object.values(INJECTED_SIDECAR_PORTS) as number[]).includes(sidecarMetricsPort)) {
    problems.push(`${ENV_INJECT_SIDECAR_METRICS_PORT} must differ from the sidecar's own ports ${Object.values(INJECTED_SIDECAR_PORTS).join(" and ")}`);
  }
  const issuerCaConfigMap = raw(ENV_ISSUER_CA_CONFIGMAP) ?? "tessera-issuer-ca";
  if (!DNS_SUBDOMAIN.test(issuerCaConfigMap)) problems.push(`${ENV_ISSUER_CA_CONFIGMAP} ${JSON.stringify(issuerCaConfigMap)} must be a ConfigMap name (lowercase letters, digits, '-', '.')`);
  const publishIssuerCa = oneOf(ENV_PUBLISH_ISSUER_CA, ["true", "false"], "true") === "true";
  const callerList = (envName: string): string[] => {
    const entries = (raw(envName) ?? "").split(",").map((e) => e.trim()).filter((e) => e !== "");
    for (const e of entries) if (!CALLER.test(e)) problems.push(`${envName}: ${JSON.stringify(e)} must be "namespace/name" or "namespace/*"`);
    return entries;
  };
  const callers = {
    introspect: callerList(ENV_INTROSPECT_CALLERS),
    revoke: callerList(ENV_REVOKE_CALLERS),
    explain: callerList(ENV_EXPLAIN_CALLERS),
  };
  const tokenReviewMode = oneOf<TokenReviewMode>(ENV_TOKEN_REVIEW_MODE, ["tokenreview", "jwks"], "tokenreview");
  const wholeSeconds = (envName: string, fallback: number, min: number, max?: number): number => {
    const v = raw(envName);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || (max !== undefined && n > max)) {
      const range = max === undefined ? `of at least ${min}` : `from ${min} to ${max}`;
      problems.push(`${envName} must be a whole number of seconds ${range}, got ${JSON.stringify(v)}`);
    }
    return n;
  };
  const signing = {
    algorithm: oneOf<SigningAlgorithm>(ENV_SIGNING_ALGORITHM, SIGNING_ALGORITHMS, "ES256"),
    // At least an hour: a successor is published 10 minutes before it is due, and shorter periods only grow the JWKS.
    rotationSeconds: wholeSeconds(ENV_KEY_ROTATION_SECONDS, 7 * 24 * 3600, 3600),
    prePublicationSeconds: KEY_PRE_PUBLICATION_SECONDS,
    maxTokenTtlSeconds: wholeSeconds(ENV_MAX_TOKEN_TTL_SECONDS, TOKEN_TTL_BOUNDS.default, TOKEN_TTL_BOUNDS.min, TOKEN_TTL_BOUNDS.max),
    reloadSeconds: KEY_RELOAD_SECONDS,
  };
  const count = (envName: string, fallback: number, min: number, max: number): number => {
    const v = raw(envName);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) problems.push(`${envName} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    return n;
  };
  const rate = (envName: string, fallback: number, max: number): number => {
    const v = raw(envName);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || n > max) problems.push(`${envName} must be a positive number up to ${max}, got ${JSON.stringify(v)}`);
    return n;
  };
  const limits = {
    audiencesPerPod: count(ENV_MAX_AUDIENCES_PER_POD, MAX_AUDIENCES_PER_POD, 1, MAX_AUDIENCES_PER_POD),
    watchersPerPod: count(ENV_MAX_WATCHERS_PER_POD, DEFAULT_LIMITS.watchersPerPod, 1, 64),
    revocationsPerCaller: count(ENV_MAX_REVOCATIONS_PER_CALLER, DEFAULT_LIMITS.revocationsPerCaller, 1, REVOCATION_LIST_MAX_ENTRIES),
    podExchangesPerSecond: rate(ENV_POD_EXCHANGES_PER_SECOND, DEFAULT_LIMITS.podExchangesPerSecond, 10_000),
    podExchangeBurst: count(ENV_POD_EXCHANGE_BURST, DEFAULT_LIMITS.podExchangeBurst, 1, 100_000),
    tokenReviewsPerSecond: rate(ENV_TOKEN_REVIEWS_PER_SECOND, DEFAULT_LIMITS.tokenReviewsPerSecond, 10_000),
    tokenReviewBurst: count(ENV_TOKEN_REVIEW_BURST, DEFAULT_LIMITS.tokenReviewBurst, 1, 100_000),
  };
  const kubeconfig = raw(ENV_KUBECONFIG);
  if (kubeconfig === undefined && (env["KUBERNETES_SERVICE_HOST"] ?? "") === "") {
    problems.push(`no cluster credentials: set ${ENV_KUBECONFIG} (or --kubeconfig), or run in a pod`);
  }
  const logLevel = raw(ENV_LOG_LEVEL) ?? "info";
  if (!LOG_LEVELS.has(logLevel)) problems.push(`${ENV_LOG_LEVEL} must be one of ${[...LOG_LEVELS].join(", ")}`);
  for (const flag of flags.keys()) if (!known.has(flag)) problems.push(`unknown flag --${flag}`);

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    namespace,
    podName,
    clusterName,
    environment,
    issuerUrl: issuerUrl.replace(/\/+$/, ""),
    subjectAudience,
    bindAddress,
    ports: Object.freeze(ports),
    lease: Object.freeze(lease),
    tls: Object.freeze({ mode: tlsMode, dnsNames: Object.freeze(dnsNames), ipAddresses: Object.freeze(ipAddresses) }),
    serviceAccountIssuer,
    sidecarImage,
    sidecarMetricsPort,
    issuerCaConfigMap,
    publishIssuerCa,
    callers: Object.freeze({ introspect: Object.freeze(callers.introspect), revoke: Object.freeze(callers.revoke), explain: Object.freeze(callers.explain) }),
    tokenReviewMode,
    signing: Object.freeze(signing),
    limits: Object.freeze(limits),
    kubeconfig,
    logLevel,
  });
}
