// Prometheus metrics of the issuer, registered on an injected Registry: issued, denied, latency, introspection.

import { Counter, Histogram, type Registry } from "prom-client";
import type { Decision } from "../policy/types.ts";
import type { DecisionRecorder } from "./record/decision-recorder.ts";
import { policyLabel } from "./record/decision-log.ts";

/** Label value when a denial happened before any policy was chosen. */
export const NO_POLICY = "none";
/** Label value once the number of distinct policies seen exceeds the bound. */
export const OTHER_POLICY = "other";

/** Why an introspection answered inactive: a closed set, so the label stays bounded. */
export type InactiveReason = "invalid" | "expired" | "revoked" | "pod-gone" | "policy-revoked" | "policy-gone";

/** Counts and times issuer decisions; is itself a DecisionRecorder so it can be combined with the log. */
export class IssuerMetrics implements DecisionRecorder {
  readonly #issued: Counter<"policy">;
  readonly #denied: Counter<"policy" | "reason">;
  readonly #duration: Histogram<"outcome">;
  readonly #introspections: Counter<"result" | "reason">;
  readonly #revocations: Counter;
  readonly #auditChanges: Counter<"kind" | "namespace" | "name" | "effect">;
  readonly #policies = new Set<string>();
  readonly #auditedResources = new Set<string>();
  readonly #maxPolicies: number;

  /**
   * `maxPolicies` bounds the policy label: policies are cluster objects, but a churn of create/delete must not
   * grow the series without bound, so names beyond it are counted under "other".
   */
  constructor(options: { registry: Registry; maxPolicies?: number }) {
    const registers = [options.registry];
    this.#maxPolicies = options.maxPolicies ?? 1000;
    this.#issued = new Counter({
      name: "tessera_tokens_issued_total",
      help: "Access tokens minted, by policy (kind/namespace/name).",
      labelNames: ["policy"],
      registers,
    });
    this.#denied = new Counter({
      name: "tessera_tokens_denied_total",
      help: "Token requests denied by policy decision, by policy and denial reason.",
      labelNames: ["policy", "reason"],
      registers,
    });
    this.#duration = new Histogram({
      name: "tessera_issuance_duration_seconds",
      help: "Time to answer a token exchange request, from parsed request to response.",
      labelNames: ["outcome"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.#introspections = new Counter({
      name: "tessera_introspections_total",
      help: "Introspection answers, by result (active/inactive) and the reason a token was inactive.",
      labelNames: ["result", "reason"],
      registers,
    });
    this.#revocations = new Counter({
      name: "tessera_revocations_total",
      help: "Tokens revoked by jti through the revocation endpoint.",
      registers,
    });
    this.#auditChanges = new Counter({
      name: "tessera_audit_would_change_total",
      help:
        "Requests an audited resource (spec.enforcement or a condition's enforcement set to Audit) would have changed had it " +
        "been enforced, by resource and effect (denied, clamped, granted; unevaluated past the per-request limit).",
      labelNames: ["kind", "namespace", "name", "effect"],
      registers,
    });
  }

  #policy(label: string): string {
    if (this.#policies.has(label)) return label;
    if (this.#policies.size >= this.#maxPolicies) return OTHER_POLICY;
    this.#policies.add(label);
    return label;
  }

  record(decision: Decision): void {
    for (const entry of decision.audit ?? []) {
      if (entry.wouldHave === "unchanged") continue;
      // Conditions are not a label (a resource may audit up to 16): the resource and the effect say enough to alert on.
      const { kind, namespace = "", name } = entry.rule;
      const known = this.#audited(`${kind}/${namespace}/${name}`);
      this.#auditChanges.inc({ kind, namespace: known ? namespace : OTHER_POLICY, name: known ? name : OTHER_POLICY, effect: entry.wouldHave });
    }
    if (decision.allowed) {
      this.#issued.inc({ policy: this.#policy(policyLabel(decision.policy)) });
      return;
    }
    const policy = decision.policy === undefined ? NO_POLICY : this.#policy(policyLabel(decision.policy));
    this.#denied.inc({ policy, reason: decision.reason });
  }

  /** Audited resources get their own bound, like policies: a churn of them must not grow the series without end. */
  #audited(key: string): boolean {
    if (this.#auditedResources.has(key)) return true;
    if (this.#auditedResources.size >= this.#maxPolicies) return false;
    this.#auditedResources.add(key);
    return true;
  }

  /** Observes one exchange's duration; outcome is "allowed", "denied" or "error" (bounded). */
  observeIssuance(seconds: number, outcome: "allowed" | "denied" | "error"): void {
    this.#duration.observe({ outcome }, seconds);
  }

  observeIntrospection(result: { active: true } | { active: false; reason: InactiveReason }): void {
    if (result.active) this.#introspections.inc({ result: "active", reason: "" });
    else this.#introspections.inc({ result: "inactive", reason: result.reason });
  }

  observeRevocation(): void {
    this.#revocations.inc();
  }
}


/**
 * Wraps the exchange pipeline so every request's duration lands in tessera_issuance_duration_seconds, labelled by
 * outcome (200 allowed, a policy denial, anything else an error). `elapsed` is injected (performance.now in production).
 */
export function timedExchange<Outcome extends { readonly status: number; readonly body: object }, Proof>(
  exchange: (body: string, dpop?: Proof) => Promise<Outcome>,
  metrics: IssuerMetrics,
  elapsedMs: () => number,
): (body: string, dpop?: Proof) => Promise<Outcome> {
  // The DPoP header goes through untouched: dropping it here would turn every bound exchange into a bearer one.
  return async (body, dpop) => {
    const started = elapsedMs();
    const outcome = await exchange(body, dpop);
    const kind = outcome.status === 200 ? "allowed" : "tessera_reason" in outcome.body ? "denied" : "error";
    metrics.observeIssuance((elapsedMs() - started) / 1000, kind);
    return outcome;
  };
}
