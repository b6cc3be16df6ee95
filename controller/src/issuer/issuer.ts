// Wires the issuer's token-exchange side: subject verification, signing keys, the exchange pipeline and the HTTPS server.
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Decider } from "./exchange/decider.ts";
import type { DecisionRecorder } from "./record/decision-recorder.ts";
import type { EntitlementFeed } from "./exchange/entitlement-feed.ts";
import type { TokenLiveness } from "./audit/token-liveness.ts";
import { createTokenExchange } from "./exchange/exchange.ts";
import type { FetchJson } from "./subject/fetch-json.ts";
import type { Handler } from "./http.ts";
import type { KeyStore } from "./keys/key-store.ts";
import { timedExchange, type IssuerMetrics } from "./metrics.ts";
import type { SigningAlgorithm } from "./keys/keys.ts";
import type { NamespaceLookup, PodLookup } from "./subject/pod-lookup.ts";
import { RemoteKeySet } from "./subject/remote-key-set.ts";
import { createIssuerServer, type IssuerServer } from "./server.ts";
import type { TlsMaterial } from "../tls/material.ts";
import type { ServiceAccountTokenRules } from "./subject/service-account-token.ts";
import { SigningKeys } from "./keys/signing-keys.ts";
import type { ClusterInfo } from "./subject/subject.ts";
import { JwksSubjectVerifier, type SubjectVerifier } from "./subject/subject-verifier.ts";
import { VerifiedSignatures } from "./subject/verified-signatures.ts";
import { TokenReviewSubjectVerifier, type TokenReviewer } from "./subject/token-review-verifier.ts";
import { PodRateLimiter } from "./exchange/pod-rate-limit.ts";
import { capTokenLifetime } from "./exchange/ttl-cap.ts";
import { createWatchHandler } from "./exchange/watch.ts";

/**
 * Projected tokens whose verified signature the issuer remembers: one per pod is enough, so this covers clusters
 * of about 16,000 token-holding pods at some 150 bytes an entry (digest, key reference, exp), about 2.5 MB.
 */
const VERIFIED_SIGNATURES_MAX_ENTRIES = 16_384;
/** Exchange rate buckets held (one per recently active pod): a bucket is two numbers, so about 1.5 MB at most. */
const RATE_LIMITED_PODS_MAX = 16_384;

/** The issuer's settings, parsed once by the controller's config. */
export interface IssuerConfig {
  /** Tessera's issuer URL (`iss` of minted tokens), https. */
  readonly issuerUrl: string;
  /** Audience pods project their service-account token for. */
  readonly audience: string;
  readonly cluster: ClusterInfo;
  /** The cluster's service-account issuer (`iss` of projected tokens). */
  readonly serviceAccountIssuer: string;
  /** Where to fetch the cluster's JWKS when the advertised jwks_uri is unreachable. */
  readonly serviceAccountJwksUrl?: string;
  /** jwks: offline verification with the cluster's keys; tokenreview: local checks, then the apiserver once per token. */
  readonly subjectVerification: "jwks" | "tokenreview";
  readonly leewaySeconds: number;
  readonly maxSubjectTokenAgeSeconds: number;
  /** Cache lifetime announced on JWKS and discovery responses. */
  readonly jwksMaxAgeSeconds: number;
  readonly signing: {
    readonly algorithm: SigningAlgorithm;
    readonly rotationSeconds: number;
    /** Must be at least jwksMaxAgeSeconds + reloadSeconds. */
    readonly prePublicationSeconds: number;
    /** Largest TTL the issuer grants: longer policy TTLs are clamped to it. */
    readonly maxTokenTtlSeconds: number;
    readonly reloadSeconds: number;
  };
  /** Exchanges per pod (a token bucket per verified pod uid); absent means unlimited. */
  readonly exchangeRate?: { readonly perSecond: number; readonly burst: number };
}

export interface IssuerDeps {
  readonly config: IssuerConfig;
  /** Fetches the cluster's discovery document and JWKS (CA and bearer configured by the caller). */
  readonly fetchJson: FetchJson;
  /** Required when subjectVerification is tokenreview. */
  readonly tokenReviewer?: TokenReviewer;
  readonly pods: PodLookup;
  readonly namespaces: NamespaceLookup;
  /** The live checks introspection applies, for every Tessera token presented in an exchange (grants, actors). */
  readonly liveness: TokenLiveness;
  readonly decider: Decider;
  readonly recorder: DecisionRecorder;
  readonly keyStore: KeyStore;
  readonly isLeader: () => boolean;
  readonly feed?: EntitlementFeed;
  readonly tls: () => TlsMaterial;
  /** More readiness conditions (e.g. informer caches synced). */
  readonly ready?: () => boolean;
  readonly extraRoutes?: Readonly<Record<string, Handler>>;
  /** Times every exchange into tessera_issuance_duration_seconds when given. */
  readonly metrics?: IssuerMetrics;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly newId: () => string;
}

export interface Issuer {
  readonly keys: SigningKeys;
  readonly verifier: SubjectVerifier;
  readonly server: IssuerServer;
  /** Loads (and on the leader, creates) signing keys, then listens. */
  start(port: number, host: string): Promise<AddressInfo>;
  stop(): Promise<void>;
  /** A pod was deleted: drop its exchange bucket and its remembered reviews, which nothing can use any more. */
  forgetPod(podUid: string): void;
}

export function createIssuer(deps: IssuerDeps): Issuer {
  const { config, logger, now } = deps;
  const rules: ServiceAccountTokenRules = {
    issuer: config.serviceAccountIssuer,
    audience: config.audience,
    tesseraIssuer: config.issuerUrl,
    leewaySeconds: config.leewaySeconds,
    maxAgeSeconds: config.maxSubjectTokenAgeSeconds,
  };
  let verifier: SubjectVerifier;
  if (config.subjectVerification === "tokenreview") {
    if (deps.tokenReviewer === undefined) throw new TypeError("subjectVerification tokenreview needs a tokenReviewer");
    verifier = new TokenReviewSubjectVerifier({ rules, reviewer: deps.tokenReviewer, pods: deps.pods, now });
  } else {
    const keySet = new RemoteKeySet({
      issuer: config.serviceAccountIssuer,
      ...(config.serviceAccountJwksUrl === undefined ? {} : { jwksUrl: config.serviceAccountJwksUrl }),
      fetchJson: deps.fetchJson,
      now,
    });
    verifier = new JwksSubjectVerifier({ rules, keys: keySet, now, verified: new VerifiedSignatures(VERIFIED_SIGNATURES_MAX_ENTRIES) });
  }
  const keys = new SigningKeys({ store: deps.keyStore, now, logger });
  const rateLimiter = config.exchangeRate === undefined ? undefined : new PodRateLimiter({ ...config.exchangeRate, maxPods: RATE_LIMITED_PODS_MAX });
  const pipeline = createTokenExchange({
    verifier,
    pods: deps.pods,
    namespaces: deps.namespaces,
    decider: capTokenLifetime(deps.decider, config.signing.maxTokenTtlSeconds),
    keys,
    recorder: deps.recorder,
    cluster: config.cluster,
    issuer: config.issuerUrl,
    serviceAccountIssuer: config.serviceAccountIssuer,
    liveness: deps.liveness,
    now,
    newId: deps.newId,
    logger,
    ...(rateLimiter === undefined ? {} : { rateLimiter }),
  });
  const exchange = deps.metrics === undefined ? pipeline : timedExchange(pipeline, deps.metrics, () => performance.now());
  const server = createIssuerServer({
    tls: deps.tls,
    issuer: config.issuerUrl,
    exchange,
    jwks: () => keys.jwks(),
    jwksMaxAgeSeconds: config.jwksMaxAgeSeconds,
    ...(deps.feed === undefined ? {} : { watch: createWatchHandler({ verifier, pods: deps.pods, feed: deps.feed }) }),
    ready: () => keys.ready && (deps.ready?.() ?? true),
    ...(deps.extraRoutes === undefined ? {} : { extraRoutes: deps.extraRoutes }),
    logger,
  });
  const s = config.signing;
  return {
    keys,
    verifier,
    server,
    async start(port, host) {
      await keys.start({
        schedule: {
          algorithm: s.algorithm,
          rotationMs: s.rotationSeconds * 1000,
          prePublicationMs: s.prePublicationSeconds * 1000,
          maxTokenTtlMs: s.maxTokenTtlSeconds * 1000,
          reloadMs: s.reloadSeconds * 1000,
          leewayMs: config.leewaySeconds * 1000,
        },
        isLeader: deps.isLeader,
        intervalMs: s.reloadSeconds * 1000,
      });
      return server.listen(port, host);
    },
    async stop() {
      keys.stop();
      await server.close();
    },
    forgetPod(podUid) {
      rateLimiter?.forget(podUid);
      verifier.forgetPod?.(podUid);
    },
  };
}
