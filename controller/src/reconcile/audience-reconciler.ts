// Reconciles TokenAudiences: compile result and standing from the live set, status written only when it changed.
import type { Logger } from "pino";
import { API_GROUP_VERSION, KIND_TOKEN_AUDIENCE, RESOURCE_TOKEN_AUDIENCES } from "../../../api/constants.ts";
import type { TokenAudienceStatus } from "../../../api/token-audience.ts";
import { expectOk, type KubeClient } from "../kube/kube-http.ts";
import { decideAudienceStatus } from "./audience-status.ts";
import type { EventRecorder } from "./event-recorder.ts";
import type { Leadership } from "./leader.ts";
import type { LivePolicySet } from "./live-policy-set.ts";
import type { CachedTokenAudience, SlimNamespace } from "./objects.ts";
import type { Store } from "./store.ts";
import type { AuditTracker } from "./audit-tracker.ts";
import { auditedParts, storedCounts, withAuditRemoval } from "./audit-status.ts";
import type { ReconcileResult } from "./worker.ts";

export interface AudienceReconcilerOptions<TC, TS> {
  readonly client: KubeClient;
  readonly audiences: Store<CachedTokenAudience>;
  readonly namespaces: Store<SlimNamespace>;
  readonly policySet: LivePolicySet<TC, TS>;
  readonly leadership: Leadership;
  readonly events: EventRecorder;
  /** What audited rules would have changed, for status.audit. */
  readonly audits?: AuditTracker;
  readonly now: () => Date;
  readonly log: Logger;
  readonly fieldManager: string;
}

export class AudienceReconciler<TC, TS> {
  readonly #opts: AudienceReconcilerOptions<TC, TS>;

  constructor(opts: AudienceReconcilerOptions<TC, TS>) {
    this.#opts = opts;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { leadership, audiences, policySet, namespaces } = this.#opts;
    if (!leadership.isLeader()) return undefined;
    const contract = audiences.get(key);
    if (contract === undefined || contract.metadata.deletionTimestamp !== undefined) return undefined;
    const outcome = policySet.compile(contract);
    const standing = outcome.ok ? policySet.contractStanding(outcome.compiled, (name) => namespaces.get(name)?.metadata.labels) : undefined;
    const generation = contract.metadata.generation ?? 0;
    const resource = { kind: KIND_TOKEN_AUDIENCE, namespace: contract.metadata.namespace ?? "", name: contract.metadata.name } as const;
    const decision = decideAudienceStatus(
      contract.status,
      {
        generation: contract.metadata.generation,
        compileErrors: outcome.ok ? [] : outcome.errors,
        standing,
        audited: auditedParts(contract.spec),
        audit: this.#opts.audits?.tally(resource, generation, storedCounts(contract.status?.audit, generation)),
      },
      this.#opts.now(),
    );
    if (decision.changed) {
      if (!leadership.isLeader()) return undefined;
      await this.#writeStatus(contract, decision.status);
    }
    const involved = {
      apiVersion: API_GROUP_VERSION,
      kind: KIND_TOKEN_AUDIENCE,
      name: contract.metadata.name,
      namespace: contract.metadata.namespace ?? "",
      uid: contract.metadata.uid,
    };
    for (const event of decision.events) await this.#opts.events.emit(involved, event);
    return undefined;
  }

  async #writeStatus(contract: CachedTokenAudience, status: TokenAudienceStatus): Promise<void> {
    const { namespace, name } = contract.metadata;
    const path = `/apis/${API_GROUP_VERSION}/namespaces/${encodeURIComponent(namespace ?? "")}/${RESOURCE_TOKEN_AUDIENCES}/${encodeURIComponent(name)}/status`;
    // Merge patch replaces the whole status; the leader is the only status writer (as for policies).
    const res = await this.#opts.client.request("PATCH", `${path}?fieldManager=${encodeURIComponent(this.#opts.fieldManager)}`, {
      body: { status: withAuditRemoval(status) },
      contentType: "application/merge-patch+json",
    });
    if (res.status === 404) return;
    expectOk(res, "patch TokenAudience status");
  }
}
