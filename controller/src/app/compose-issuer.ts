// Builds the issuer as the controller runs it (exchange, keys, recorders, audit routes) from ports each caller provides.
//
// The controller passes its informer caches and Kubernetes clients; integration tests pass apiserver reads and their
// own recorders. Either way the pieces are put together here, once, so a test's issuer is the controller's issuer.
import type { Logger } from "pino";
import type { CallerAuthenticator } from "../issuer/audit/caller-auth.ts";
import type { PolicyLookup } from "../issuer/audit/introspection.ts";
import type { RevocationStore } from "../issuer/audit/revocation.ts";
import { createAuditRoutes } from "../issuer/audit/routes.ts";
import type { EntitlementFeed } from "../issuer/exchange/entitlement-feed.ts";
import { Explainer } from "../issuer/explain/explainer.ts";
import { createIssuer, type Issuer, type IssuerConfig } from "../issuer/issuer.ts";
import type { KeyStore } from "../issuer/keys/key-store.ts";
import type { IssuerMetrics } from "../issuer/metrics.ts";
import { combineRecorders } from "../issuer/record/decision-log.ts";
import type { DecisionRecorder } from "../issuer/record/decision-recorder.ts";
import type { TlsMaterial } from "../tls/material.ts";
import type { FetchJson } from "../issuer/subject/fetch-json.ts";
import type { NamespaceLookup, PodLookup } from "../issuer/subject/pod-lookup.ts";
import type { TokenReviewer } from "../issuer/subject/token-review-verifier.ts";
import type { NamespaceLabels, PolicySet } from "../policy/index.ts";
import { cappedExplainEngine, engineDecider, policySetLookup } from "./engine-adapters.ts";
import { createTokenLiveness } from "../issuer/audit/token-liveness.ts";

const NO_REVOCATIONS = { isRevoked: () => false };

/** The audit half (introspect, revoke, explain): mounted on the issuer's server when given. */
export interface AuditParts {
  readonly auth: CallerAuthenticator;
  readonly revocations: RevocationStore;
  readonly policies: PolicyLookup;
  readonly metrics: IssuerMetrics;
}

export interface IssuerParts {
  readonly config: IssuerConfig;
  /** The PolicySet to decide and explain with, read on every call (the controller's live set). */
  readonly policies: () => PolicySet;
  readonly pods: PodLookup;
  readonly namespaces: NamespaceLookup;
  /**
   * Labels of any namespace, read synchronously (the controller's namespace cache), so an operator's ownership rule
   * can find which namespace owns an audience. Without it only the subject's own namespace and Service URLs resolve.
   */
  readonly namespaceLabels?: NamespaceLabels;
  readonly keyStore: KeyStore;
  /** Fetches the cluster's discovery document and JWKS (CA and bearer configured by the caller). */
  readonly fetchJson: FetchJson;
  /** Required when subjectVerification is tokenreview. */
  readonly tokenReviewer?: TokenReviewer;
  /** Where each decision goes, in this order; one recorder failing never stops the others or the issuance. */
  readonly recorders: readonly DecisionRecorder[];
  readonly audit?: AuditParts;
  /** Times every exchange into tessera_issuance_duration_seconds when given. */
  readonly metrics?: IssuerMetrics;
  readonly feed?: EntitlementFeed;
  readonly tls: () => TlsMaterial;
  /** More readiness conditions (e.g. informer caches synced). */
  readonly ready?: () => boolean;
  readonly isLeader: () => boolean;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly newId: () => string;
}

export function composeIssuer(parts: IssuerParts): Issuer {
  const { config, logger, now } = parts;
  const audit = parts.audit;
  // The audit routes need the issuer's keys, which exist once the issuer does: a late-bound view.
  const lateKeys = { verificationKey: (kid: string) => issuer.keys.verificationKey(kid) };
  const extraRoutes =
    audit === undefined
      ? undefined
      : createAuditRoutes({
          issuer: config.issuerUrl,
          keys: lateKeys,
          auth: audit.auth,
          revocations: audit.revocations,
          pods: parts.pods,
          policies: audit.policies,
          explainer: new Explainer({
            pods: parts.pods,
            namespaces: parts.namespaces,
            engine: cappedExplainEngine(parts.policies, config.signing.maxTokenTtlSeconds, parts.namespaceLabels),
            cluster: config.cluster,
            issuer: config.issuerUrl,
            now,
          }),
          metrics: audit.metrics,
          maxTokenLifetimeSeconds: config.signing.maxTokenTtlSeconds,
          now,
          logger,
        });
  // Grants and actor tokens are checked as introspection checks them: the same revocation list and policy reads when
  // the audit half is mounted; without it nothing can be revoked by jti, and policies are read from the live set.
  const liveness = createTokenLiveness({
    revocations: audit?.revocations ?? NO_REVOCATIONS,
    pods: parts.pods,
    policies: audit?.policies ?? policySetLookup(parts.policies),
  });
  const issuer = createIssuer({
    liveness,
    config,
    fetchJson: parts.fetchJson,
    ...(parts.tokenReviewer === undefined ? {} : { tokenReviewer: parts.tokenReviewer }),
    pods: parts.pods,
    namespaces: parts.namespaces,
    decider: engineDecider(parts.policies, parts.namespaceLabels),
    recorder: combineRecorders(logger, parts.recorders),
    keyStore: parts.keyStore,
    isLeader: parts.isLeader,
    ...(parts.feed === undefined ? {} : { feed: parts.feed }),
    tls: parts.tls,
    ...(parts.ready === undefined ? {} : { ready: parts.ready }),
    ...(extraRoutes === undefined ? {} : { extraRoutes }),
    ...(parts.metrics === undefined ? {} : { metrics: parts.metrics }),
    logger,
    now,
    newId: parts.newId,
  });
  return issuer;
}
