// Composition root of the controller process: config -> clients -> informers -> policy set -> leader election -> reconcilers -> servers.
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { AuthenticationV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { collectDefaultMetrics, Registry } from "prom-client";
import { SECRET_SIGNING_KEYS } from "../../api/constants.ts";
import { engineGuardrailChecker, enginePolicyChooser, enginePolicyCompiler } from "./app/engine-adapters.ts";
import { enginePolicyPreview } from "./admission/engine-preview.ts";
import { startAdmissionServer, type AdmissionServer } from "./admission/server.ts";
import { reloadServingMaterial, syncWebhookTls } from "./admission/webhook-certs.ts";
import { ConfigError, parseConfig, type Config } from "./config.ts";
import { startHealthServer } from "./health.ts";
import { combineRecorders, DecisionLog } from "./issuer/record/decision-log.ts";
import type { DecisionRecorder } from "./issuer/record/decision-recorder.ts";
import { createHttpsJsonFetcher } from "./issuer/subject/fetch-json.ts";
import { engineDecider } from "./app/engine-decider.ts";
import { createIssuer, type IssuerConfig } from "./issuer/issuer.ts";
import { SecretKeyStore } from "./issuer/keys/key-store.ts";
import { clientNodeTokenReviewer } from "./issuer/subject/token-review-verifier.ts";
import { makeReusingApiClient } from "./kube/reusing-api-client.ts";
import type { CompiledPolicy, PolicySet } from "./policy/index.ts";
import { IssuerMetrics } from "./issuer/metrics.ts";
import { CallerAuthenticator } from "./issuer/audit/caller-auth.ts";
import { DenialEventRecorder, KubernetesEventSink } from "./issuer/record/denial-events.ts";
import { Explainer, type ExplainEngine } from "./issuer/explain/explainer.ts";
import { engineOver } from "./issuer/explain/local.ts";
import { createAuditRoutes } from "./issuer/audit/routes.ts";
import { RevocationStore } from "./issuer/audit/revocation.ts";
import { capGrantTtl } from "./issuer/exchange/ttl-cap.ts";
import { createLogger } from "./logging.ts";
import { ControllerCore } from "./reconcile/controller.ts";
import { kubeClientFromConfig } from "./kube/kube-http.ts";
import { cacheNamespaceLookup, cachePodLookup } from "./reconcile/cache-lookups.ts";
import { controllerMetrics } from "./reconcile/metrics.ts";
import { tesseraPolicyEngine } from "./app/reconcile-engine.ts";
import { realTimers } from "./reconcile/timers.ts";

const IN_CLUSTER_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/** Sidecar injection defaults; the chart overrides nothing here yet (see docs/controller.md). */
const INJECTION_DEFAULTS = {
  subjectTokenExpirationSeconds: 3600,
  // The sidecar idles at 55-65 MiB resident and peaks near 100 MiB under request churn (docs/sidecar.md,
  // docs/benchmarks.md): a 64Mi limit would have the kubelet OOM-kill it.
  resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "128Mi" } },
  nativeSidecars: true,
  sidecarPort: 8777,
  // The kubelet probes the sidecar from the node, which cannot reach its loopback token port: health gets its own.
  healthPort: 8779,
  tokenVolumeSizeLimit: "4Mi",
  runAsUser: 65532,
  injectorVersion: "0.1.0",
};

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

function clusterCaPem(kc: KubeConfig): string | undefined {
  const cluster = kc.getCurrentCluster();
  if (cluster?.caData !== undefined) return Buffer.from(cluster.caData, "base64").toString("utf8");
  if (cluster?.caFile !== undefined) return readFileSync(cluster.caFile, "utf8");
  return undefined;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, { pod: config.podName });
  const now = (): Date => new Date();
  const kc = kubeConfigFor(config);
  const client = kubeClientFromConfig(kc);
  const coreApi = makeReusingApiClient(kc, CoreV1Api);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = controllerMetrics(registry);

  const core = new ControllerCore<CompiledPolicy, PolicySet>({
    client,
    namespace: config.namespace,
    identity: config.podName,
    engine: tesseraPolicyEngine(),
    leaderTiming: { leaseDurationMs: config.lease.durationMs, renewDeadlineMs: config.lease.renewDeadlineMs, retryPeriodMs: config.lease.retryPeriodMs },
    timers: realTimers,
    now,
    random: Math.random,
    log: log.child({ area: "reconcile" }),
    metrics,
    ...(config.publishIssuerCa ? { issuerCaConfigMap: config.issuerCaConfigMap } : {}),
  });

  let serversListening = false;
  // Replaced once the issuer exists; /readyz may be asked before that.
  let keysReady = (): boolean => false;
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

  // Graceful shutdown, registered before anything slow starts: fail readiness first, hand the lease over, close
  // long-polls, then stop watches and servers.
  const shutdown = new AbortController();
  const closers: (() => Promise<void>)[] = [];
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    health.drain();
    shutdown.abort();
    await core.stop();
    await Promise.allSettled([...closers.map((c) => c()), health.close()]);
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));

  await core.start(shutdown.signal);
  // Serving TLS for the issuer and the webhook: one Secret. The leader keeps it issued and renewed when self-managed;
  // with cert-manager it only copies the Secret's CA into the webhook configurations and warns when renewal is late.
  const tlsLog = log.child({ area: "tls" });
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
  const tlsTimer = setInterval(() => void syncTls(), 60_000);
  tlsTimer.unref();
  const serving = reloadServingMaterial({ kube: client, namespace: config.namespace, logger: tlsLog });
  closers.push(() => {
    clearInterval(tlsTimer);
    serving.stop();
    return Promise.resolve();
  });
  const material = await serving.ready;
  const tls = () => serving.current() ?? material;

  // Issuer: exchange, JWKS, the re-issuance long-poll and the audit routes (introspect, revoke, explain, metrics),
  // deciding with the live PolicySet and reading pods, namespaces and policies from the caches.
  const cluster = { name: config.clusterName, environment: config.environment };
  const issuerConfig: IssuerConfig = {
    issuerUrl: config.issuerUrl,
    audience: config.subjectAudience,
    cluster,
    serviceAccountIssuer: config.serviceAccountIssuer,
    serviceAccountJwksUrl: `${kc.getCurrentCluster()?.server ?? ""}/openid/v1/jwks`,
    subjectVerification: config.tokenReviewMode,
    leewaySeconds: 60,
    maxSubjectTokenAgeSeconds: 24 * 3600,
    jwksMaxAgeSeconds: 300,
    signing: config.signing,
  };
  const caPem = clusterCaPem(kc);
  const issuanceTracker: DecisionRecorder = {
    record(decision) {
      if (decision.allowed) core.tracker.record(decision.policy, new Date(decision.at));
    },
  };
  const issuerLog = log.child({ area: "issuer" });
  const pods = cachePodLookup(core.caches.pods);
  const namespaces = cacheNamespaceLookup(core.caches.namespaces);
  const tokenReviewer = clientNodeTokenReviewer(makeReusingApiClient(kc, AuthenticationV1Api));
  const issuerMetrics = new IssuerMetrics({ registry });
  const denialEvents = new DenialEventRecorder({ sink: new KubernetesEventSink({ core: coreApi, instance: config.podName }), logger: issuerLog, now });
  const revocations = new RevocationStore({ core: coreApi, namespace: config.namespace, logger: issuerLog, now });
  await revocations.reload().catch((err: unknown) => {
    issuerLog.warn({ err }, "loading revocations failed; the reload loop retries");
  });
  const stopRevocationReload = revocations.startReloading(10_000);
  closers.push(() => {
    stopRevocationReload();
    return Promise.resolve();
  });
  // Explain answers what the exchange would: the live PolicySet, then the issuer's own TTL cap.
  const explainEngine: ExplainEngine = {
    explain(input) {
      const explained = engineOver(core.policySet.current).explain(input);
      return { ...explained, decision: capGrantTtl(explained.decision, config.signing.maxTokenTtlSeconds) };
    },
  };
  // The audit routes need the issuer's keys, which exist once the issuer does: a late-bound view.
  const lateKeys = { verificationKey: (kid: string) => issuer.keys.verificationKey(kid) };
  const auditRoutes = createAuditRoutes({
    issuer: config.issuerUrl,
    keys: lateKeys,
    auth: new CallerAuthenticator({ reviewer: tokenReviewer, audience: config.subjectAudience, allowlist: config.callers, now }),
    revocations,
    pods,
    policies: {
      get: (ref) =>
        ref.kind === "TokenPolicy" ? core.caches.tokenPolicies.get(`${ref.namespace ?? ""}/${ref.name}`) : core.caches.clusterTokenPolicies.get(ref.name),
    },
    explainer: new Explainer({ pods, namespaces, engine: explainEngine, cluster, issuer: config.issuerUrl, now }),
    metrics: issuerMetrics,
    registry,
    maxTokenLifetimeSeconds: config.signing.maxTokenTtlSeconds,
    now,
    logger: issuerLog,
  });
  const issuer = createIssuer({
    config: issuerConfig,
    fetchJson: createHttpsJsonFetcher({
      ...(caPem === undefined ? {} : { ca: caPem }),
      bearer: () => (existsSync(IN_CLUSTER_TOKEN) ? readFileSync(IN_CLUSTER_TOKEN, "utf8").trim() : undefined),
    }),
    tokenReviewer,
    pods,
    namespaces,
    decider: engineDecider(() => core.policySet.current),
    recorder: combineRecorders(log, [new DecisionLog({ logger: log.child({ area: "decisions" }) }), issuerMetrics, denialEvents, issuanceTracker]),
    keyStore: new SecretKeyStore(coreApi, config.namespace),
    isLeader: () => core.leader.isLeader(),
    feed: core.feed,
    tls,
    ready: () => core.hasSynced(),
    extraRoutes: auditRoutes,
    metrics: issuerMetrics,
    logger: issuerLog,
    now,
    newId: randomUUID,
  });
  keysReady = () => issuer.keys.ready;
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
  await issuer.start(config.ports.issuer, config.bindAddress);

  // Admission webhook.
  const admission: AdmissionServer = await startAdmissionServer({
    tls,
    pods: {
      config: {
        ...INJECTION_DEFAULTS,
        sidecarImage: config.sidecarImage,
        issuerUrl: config.issuerUrl,
        issuerCa: { kind: "configMap", name: config.issuerCaConfigMap, key: "ca.crt" },
        tesseraAudience: config.subjectAudience,
      },
      // Warnings at admission for denials the pod would meet, decided with the same live PolicySet as issuance.
      preview: enginePolicyPreview({
        chooser: enginePolicyChooser(() => core.policySet.current),
        namespaceLabels: (name) => core.caches.namespaces.get(name)?.metadata.labels,
        cluster,
      }),
    },
    policies: {
      compiler: enginePolicyCompiler,
      guardrails: engineGuardrailChecker((ns) => core.caches.namespaces.get(ns)?.metadata.labels),
      source: { list: () => [...core.caches.tokenPolicies.list(), ...core.caches.clusterTokenPolicies.list()] },
    },
    registry,
    logger: log.child({ area: "admission" }),
    host: config.bindAddress,
    port: config.ports.admission,
  });

  serversListening = true;
  log.info({ issuerPort: config.ports.issuer, admissionPort: admission.port, healthPort: health.port }, "controller started");
  closers.push(() => issuer.stop(), () => admission.close());
}

main().catch((err: unknown) => {
  process.stderr.write(`tessera controller failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
