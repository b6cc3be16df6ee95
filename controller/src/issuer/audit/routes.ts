// The audit half of the issuer as extra routes for its server: introspect, revoke and explain.
//
// Metrics are not among them: the issuer port is reachable by every pod, and policy names and counts are for the
// operator, on the health port only.

import type { Logger } from "pino";
import { PATH_EXPLAIN, PATH_INTROSPECT, PATH_REVOKE } from "../../../../api/constants.ts";
import type { TesseraKeyLookup } from "../keys/access-token.ts";
import type { CallerAuthenticator } from "./caller-auth.ts";
import type { Explainer } from "../explain/explainer.ts";
import { createExplainHandler } from "../explain/http.ts";
import type { Handler } from "../http.ts";
import { createIntrospectionHandler, createRevocationHandler } from "./introspection-http.ts";
import { Introspector, type PolicyLookup } from "./introspection.ts";
import type { IssuerMetrics } from "../metrics.ts";
import type { PodLookup } from "../subject/pod-lookup.ts";
import type { RevocationStore } from "./revocation.ts";

export interface AuditRoutesOptions {
  readonly issuer: string;
  /** Tessera's published keys; usually a late-bound view of the issuer's SigningKeys. */
  readonly keys: TesseraKeyLookup;
  readonly auth: CallerAuthenticator;
  readonly revocations: RevocationStore;
  readonly pods: PodLookup;
  readonly policies: PolicyLookup;
  readonly explainer: Explainer;
  readonly metrics: IssuerMetrics;
  readonly maxTokenLifetimeSeconds: number;
  readonly now: () => Date;
  readonly logger: Logger;
}

/** Handlers keyed by exact path, ready for the issuer server's `extraRoutes`. */
export function createAuditRoutes(o: AuditRoutesOptions): Record<string, Handler> {
  const introspector = new Introspector({
    issuer: o.issuer,
    keys: o.keys,
    revocations: o.revocations,
    pods: o.pods,
    policies: o.policies,
    now: o.now,
    metrics: o.metrics,
  });
  return {
    [PATH_INTROSPECT]: createIntrospectionHandler({ auth: o.auth, introspector, logger: o.logger }),
    [PATH_REVOKE]: createRevocationHandler({
      auth: o.auth,
      store: o.revocations,
      keys: o.keys,
      issuer: o.issuer,
      now: o.now,
      maxTokenLifetimeSeconds: o.maxTokenLifetimeSeconds,
      logger: o.logger,
      metrics: o.metrics,
    }),
    [PATH_EXPLAIN]: createExplainHandler({ auth: o.auth, explainer: o.explainer, logger: o.logger }),
  };
}
