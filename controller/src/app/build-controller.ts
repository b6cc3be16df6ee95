// The controller assembled from its Config: clients -> informers -> policy set -> leader election -> reconcilers -> servers.
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { AuthenticationV1Api, CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { collectDefaultMetrics, Registry } from "prom-client";
import { SECRET_SIGNING_KEYS } from "../../../api/constants.ts";
import { enginePolicyPreview } from "../admission/engine-preview.ts";
import { startAdmissionServer, type AdmissionServer } from "../admission/server.ts";
import { syncWebhookTls } from "../admission/webhook-certs.ts";
import { INJECTED_SIDECAR_PORTS, type Config } from "../config.ts";
import { startHealthServer } from "../health.ts";
import { CallerAuthenticator } from "../issuer/audit/caller-auth.ts";
import { RevocationStore } from "../issuer/audit/revocation.ts";
import type { Issuer, IssuerConfig } from "../issuer/issuer.ts";
import { SecretKeyStore } from "../issuer/keys/key-store.ts";
import { signingKeyMetrics } from "../issuer/keys/metrics.ts";
import { IssuerMetrics } from "../issuer/metrics.ts";
import { DecisionLog } from "../issuer/record/decision-log.ts";
import { DenialEventRecorder, KubernetesEventSink } from "../issuer/record/denial-events.ts";
import { createHttpsJsonFetcher } from "../issuer/subject/fetch-json.ts";
import { clientNodeTokenReviewer } from "../issuer/subject/token-review-verifier.ts";
import { budgetedTokenReviewer } from "../issuer/subject/token-review-budget.ts";
import { kubeClientFromConfig, type KubeClient } from "../kube/kube-http.ts";
import { makeReusingApiClient } from "../kube/reusing-api-client.ts";
import type { PolicySet } from "../policy/index.ts";
import { ControllerCore } from "../reconcile/controller.ts";
import { controllerMetrics } from "../reconcile/metrics.ts";
import { realTimers } from "../reconcile/timers.ts";
import type { TlsMaterial } from "../tls/material.ts";
import { reloadServingMaterial } from "../tls/serving-material.ts";
import { composeIssuer } from "./compose-issuer.ts";
import {
  cacheNamespaceLookup,
  cachePodLookup,
  cachePolicyLookup,
  cachePolicySource,
  enginePolicyChooser,
  enginePolicyCompiler,
  engineGuardrailChecker,
  auditRecorder,
  issuanceRecorder,
  tesseraPolicyEngine,
  type CompiledResource,
} from "./engine-adapters.ts";

const IN_CLUSTER_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/** Sidecar injection defaults; the chart overrides nothing here yet (see docs/controller.md). */
const INJECTION_DEFAULTS = {
  subjectTokenExpirationSeconds: 3600,
  // The sidecar idles at 55-65 MiB resident and peaks near 100 MiB under request churn (docs/sidecar.md,
  // docs/benchmarks.md): a 64Mi limit would have the kubelet OOM-kill it.
  resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "128Mi" } },
  nativeSidecars: true,
  sidecarPort: INJECTED_SIDECAR_PORTS.token,
  // The kubelet probes the sidecar from the node, which cannot reach its loopback token port: health gets its own.
  healthPort: INJECTED_SIDECAR_PORTS.health,
  tokenVolumeSizeLimit: "4Mi",
  runAsUser: 65532,
  injectorVersion: "0.1.0",
};
/** How often the leader looks at the serving certificate (renewal, caBundle) besides on gaining the lease. */
const TLS_SYNC_INTERVAL_MS = 60_000;
/** How often every replica rereads the revocation list that the leader and the revoke endpoint write. */
const REVOCATION_RELOAD_MS = 10_000;

export interface ControllerDeps {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  readonly now?: () => Date;
}

/** Where the controller's listeners are bound, once started. */
export interface ControllerUrls {
  readonly issuer: string;
  readonly admission: string;
  readonly health: string;
}

export interface Controller {
  /** Starts watches, leader election and every server; resolves once all of them listen. */
  start(): Promise<ControllerUrls>;
  /**
   * Fails readiness first, hands the lease over, closes long-polls, then stops watches and servers. Safe at any
   * point of start(), and more than once.
   */
  stop(): Promise<void>;
}

function clusterCaPem(kc: KubeConfig): string | undefined {
  const cluster = kc.getCurrentCluster();
  if (cluster?.caData !== undefined) return Buffer.from(cluster.caData, "base64").toString("utf8");
  if (cluster?.caFile !== undefined) return readFileSync(cluster.caFile, "utf8");
  return undefined;
}

function url(scheme: "http" | "https", host: string, port: number): string {
  return `${scheme}://${host.includes(":") ? `[${host}]` : host}:${String(port)}`;
}

/** What every start-up step shares: the parsed config, the clients, the reconcile core, and where to register closers. */
interface Wiring {
  readonly config: Config;
  readonly kc: KubeConfig;
  readonly client: KubeClient;
  readonly coreApi: CoreV1Api;
  readonly registry: Registry;
  readonly core: ControllerCore<CompiledResource, PolicySet>;
  readonly log: Logger;
  readonly now: () => Date;
  /** Run on stop, all at once. */
  readonly closers: (() => Promise<void>)[];
}

/**
 * Serving TLS for the issuer and the webhook: one Secret. The leader keeps it issued and renewed when self-managed;
 * with cert-manager it only copies the Secret's CA into the webhook configurations and warns when renewal is late.
 * Every replica reloads the material from the Secret; resolves once there is some to serve.
 */
async function startServingTls(w: Wiring): Promise<() => TlsMaterial> {
  const { config, core, client, now } = w;
  const tlsLog = w.log.child({ area: "tls" });
  const syncTls = async (): Promise<void> => {
    if (!core.leader.isLeader()) return;
    try {
      await syncWebhookTls({ kube: client, namespace: config.namespace, mode: config.tls.mode, dnsNames: config.tls.dnsNames, ipAddresses: config.tls.ipAddresses, now, logger: tlsLog });
    } catch (err) {
      tlsLog.warn({ err }, "webhook certificate sync failed; retrying");
    }
  };
  core.leader.onLeadershipChange((leading) => {
    if (leading) void syncTls();
  });
  const tlsTimer = setInterval(() => void syncTls(), TLS_SYNC_INTERVAL_MS);
  tlsTimer.unref();
  const serving = reloadServingMaterial({ kube: client, namespace: config.namespace, logger: tlsLog });
  w.closers.push(() => {
    clearInterval(tlsTimer);
    serving.stop();
    return Promise.resolve();
  });
  const material = await serving.ready;
  return () => serving.current() ?? material;
}

/**
 * The issuer: exchange, JWKS, the re-issuance long-poll and the audit routes (introspect, revoke, explain),
 * deciding with the live PolicySet and reading pods, namespaces and policies from the caches. Resolves listening.
 */
async function startIssuer(w: Wiring, tls: () => TlsMaterial): Promise<{ readonly issuer: Issuer; readonly port: number }> {
  const { config, core, kc, coreApi, registry, now } = w;
  const issuerConfig: IssuerConfig = {
    issuerUrl: config.issuerUrl,
    audience: config.subjectAudience,
    cluster: { name: config.clusterName, environment: config.environment },
    serviceAccountIssuer: config.serviceAccountIssuer,
    serviceAccountJwksUrl: `${kc.getCurrentCluster()?.server ?? ""}/openid/v1/jwks`,
    subjectVerification: config.tokenReviewMode,
    leewaySeconds: 60,
    maxSubjectTokenAgeSeconds: 24 * 3600,
    jwksMaxAgeSeconds: 300,
    signing: config.signing,
    exchangeRate: { perSecond: config.limits.podExchangesPerSecond, burst: config.limits.podExchangeBurst },
  };
  const caPem = clusterCaPem(kc);
  const issuerLog = w.log.child({ area: "issuer" });
  // One budget for every review this replica sends, so no caller (forged subject tokens, garbage audit bearers) can
  // turn into unbounded apiserver load.
  const tokenReviewer = budgetedTokenReviewer({
    reviewer: clientNodeTokenReviewer(makeReusingApiClient(kc, AuthenticationV1Api)),
    perSecond: config.limits.tokenReviewsPerSecond,
    burst: config.limits.tokenReviewBurst,
    now,
  });
  const issuerMetrics = new IssuerMetrics({ registry });
  const denialEvents = new DenialEventRecorder({ sink: new KubernetesEventSink({ core: coreApi, instance: config.podName }), logger: issuerLog, now });
  const revocations = new RevocationStore({
    core: coreApi,
    namespace: config.namespace,
    logger: issuerLog,
    now,
    maxEntriesPerCaller: config.limits.revocationsPerCaller,
  });
  await revocations.reload().catch((err: unknown) => {
    issuerLog.warn({ err }, "loading revocations failed; the reload loop retries");
  });
  const stopRevocationReload = revocations.startReloading(REVOCATION_RELOAD_MS);
  w.closers.push(() => {
    stopRevocationReload();
    return Promise.resolve();
  });
  const issuer = composeIssuer({
    config: issuerConfig,
    policies: () => core.policySet.current,
    pods: cachePodLookup(core.caches.pods),
    namespaces: cacheNamespaceLookup(core.caches.namespaces),
    namespaceLabels: (name) => core.caches.namespaces.get(name)?.metadata.labels,
    keyStore: new SecretKeyStore(coreApi, config.namespace),
    fetchJson: createHttpsJsonFetcher({
      ...(caPem === undefined ? {} : { ca: caPem }),
      bearer: () => (existsSync(IN_CLUSTER_TOKEN) ? readFileSync(IN_CLUSTER_TOKEN, "utf8").trim() : undefined),
    }),
    tokenReviewer,
    recorders: [new DecisionLog({ logger: w.log.child({ area: "decisions" }) }), issuerMetrics, denialEvents, issuanceRecorder(core.tracker), auditRecorder(core.audits)],
    audit: {
      auth: new CallerAuthenticator({ reviewer: tokenReviewer, audience: config.subjectAudience, allowlist: config.callers, now }),
      revocations,
      policies: cachePolicyLookup(core.caches),
      metrics: issuerMetrics,
    },
    metrics: issuerMetrics,
    feed: core.feed,
    tls,
    ready: () => core.hasSynced(),
    isLeader: () => core.leader.isLeader(),
    logger: issuerLog,
    now,
    newId: randomUUID,
  });
  signingKeyMetrics(registry, issuer.keys, config.signing.rotationSeconds);
  // The key Secret is watched: every replica reloads as soon as the leader writes it, and a new leader rotates at once
  // (the first replica of a fresh install creates the first key without waiting for the reload interval).
  const refreshKeys = async (rotate: boolean): Promise<void> => {
    try {
      if (rotate && core.leader.isLeader()) {
        await issuer.keys.rotate({
          algorithm: config.signing.algorithm,
          rotationMs: config.signing.rotationSeconds * 1000,
          prePublicationMs: config.signing.prePublicationSeconds * 1000,
          maxTokenTtlMs: config.signing.maxTokenTtlSeconds * 1000,
          reloadMs: config.signing.reloadSeconds * 1000,
          leewayMs: issuerConfig.leewaySeconds * 1000,
        });
      }
      await issuer.keys.reload();
    } catch (err) {
      issuerLog.warn({ err }, "signing keys refresh failed; the reload loop retries");
    }
  };
  core.secrets.onEvent((e) => {
    if (e.object.metadata.name === SECRET_SIGNING_KEYS) void refreshKeys(false);
  });
  core.leader.onLeadershipChange((leading) => {
    if (leading) void refreshKeys(true);
  });
  // Per-pod state (the exchange bucket, remembered reviews) would otherwise stay until it ages out: under pod churn
  // that is every pod seen within a token's lifetime instead of the pods that exist.
  core.pods.onEvent((e) => {
    if (e.type === "deleted") issuer.forgetPod(e.object.metadata.uid);
  });
  const address = await issuer.start(config.ports.issuer, config.bindAddress);
  w.closers.push(() => issuer.stop());
  return { issuer, port: address.port };
}

/**
 * The admission webhooks: pod injection (with warnings for denials the pod would meet, decided with the same live
 * PolicySet as issuance) and policy validation (reading the policies the controller has already compiled).
 */
async function startAdmission(w: Wiring, tls: () => TlsMaterial): Promise<AdmissionServer> {
  const { config, core } = w;
  const admission = await startAdmissionServer({
    tls,
    pods: {
      config: {
        ...INJECTION_DEFAULTS,
        sidecarImage: config.sidecarImage,
        ...(config.sidecarMetricsPort === undefined ? {} : { metricsPort: config.sidecarMetricsPort }),
        issuerUrl: config.issuerUrl,
        issuerCa: { kind: "configMap", name: config.issuerCaConfigMap, key: "ca.crt" },
        tesseraAudience: config.subjectAudience,
        maxAudiencesPerPod: config.limits.audiencesPerPod,
      },
      preview: enginePolicyPreview({
        chooser: enginePolicyChooser(() => core.policySet.current),
        namespaceLabels: (name) => core.caches.namespaces.get(name)?.metadata.labels,
        cluster: { name: config.clusterName, environment: config.environment },
      }),
    },
    policies: {
      compiler: enginePolicyCompiler,
      guardrails: engineGuardrailChecker((ns) => core.caches.namespaces.get(ns)?.metadata.labels, core.policySet),
      source: cachePolicySource(core.caches),
    },
    registry: w.registry,
    logger: w.log.child({ area: "admission" }),
    host: config.bindAddress,
    port: config.ports.admission,
  });
  w.closers.push(() => admission.close());
  return admission;
}

export function buildController(config: Config, deps: ControllerDeps): Controller {
  const { kubeConfig: kc, logger: log } = deps;
  const now = deps.now ?? ((): Date => new Date());
  const client = kubeClientFromConfig(kc);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const core = new ControllerCore<CompiledResource, PolicySet>({
    client,
    namespace: config.namespace,
    identity: config.podName,
    engine: tesseraPolicyEngine(),
    leaderTiming: { leaseDurationMs: config.lease.durationMs, renewDeadlineMs: config.lease.renewDeadlineMs, retryPeriodMs: config.lease.retryPeriodMs },
    timers: realTimers,
    now,
    random: Math.random,
    log: log.child({ area: "reconcile" }),
    metrics: controllerMetrics(registry),
    maxWaitersPerPod: config.limits.watchersPerPod,
    ...(config.publishIssuerCa ? { issuerCaConfigMap: config.issuerCaConfigMap } : {}),
  });
  const w: Wiring = { config, kc, client, coreApi: makeReusingApiClient(kc, CoreV1Api), registry, core, log, now, closers: [] };

  const shutdown = new AbortController();
  let serversListening = false;
  // Replaced once the issuer exists; /readyz may be asked before that.
  let keysReady = (): boolean => false;
  let drainHealth = (): void => undefined;
  let stopping: Promise<void> | undefined;

  async function start(): Promise<ControllerUrls> {
    const health = await startHealthServer({
      host: config.bindAddress,
      port: config.ports.health,
      registry,
      readiness: {
        caches: () => (core.hasSynced() ? undefined : "informer caches have not synced"),
        keys: () => (keysReady() ? undefined : "signing keys are not loaded"),
        servers: () => (serversListening ? undefined : "issuer and admission servers are not listening yet"),
      },
      log,
    });
    drainHealth = () => {
      health.drain();
    };
    w.closers.push(() => health.close());

    await core.start(shutdown.signal);
    const tls = await startServingTls(w);
    const { issuer, port: issuerPort } = await startIssuer(w, tls);
    keysReady = () => issuer.keys.ready;
    const admission = await startAdmission(w, tls);

    serversListening = true;
    log.info({ issuerPort: config.ports.issuer, admissionPort: admission.port, healthPort: health.port }, "controller started");
    return {
      issuer: url("https", config.bindAddress, issuerPort),
      admission: url("https", config.bindAddress, admission.port),
      health: url("http", config.bindAddress, health.port),
    };
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      drainHealth();
      shutdown.abort();
      await core.stop();
      await Promise.allSettled(w.closers.map((close) => close()));
    })();
    return stopping;
  }

  return { start, stop };
}
