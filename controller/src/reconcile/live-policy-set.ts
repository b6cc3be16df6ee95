// Keeps the live PolicySet the issuer decides with: compile results memoized per policy generation, the set rebuilt on change.
import type { Logger } from "pino";
import type { GovernedResource } from "../../../api/token-audience.ts";
import type { CompileOutcome, PolicyEngine } from "./policy-engine.ts";

export class LivePolicySet<TCompiled, TSet> {
  readonly #engine: PolicyEngine<TCompiled, TSet>;
  readonly #log: Logger;
  readonly #compiled = new Map<string, { readonly version: string; readonly outcome: CompileOutcome<TCompiled> }>();
  #current: TSet;
  #rebuilds = 0;

  constructor(engine: PolicyEngine<TCompiled, TSet>, log: Logger) {
    this.#engine = engine;
    this.#log = log;
    this.#current = engine.buildSet([], []);
  }

  /** The set to decide with; replaced wholesale on every rebuild, so a reader never sees a half-built one. */
  get current(): TSet {
    return this.#current;
  }

  get rebuilds(): number {
    return this.#rebuilds;
  }

  /**
   * The compile outcome already held for this exact policy generation, without compiling: for readers (the
   * validating webhook) that must not add a policy the apiserver has not stored yet to the memo.
   */
  peek(policy: GovernedResource): CompileOutcome<TCompiled> | undefined {
    const hit = this.#compiled.get(memoKey(policy));
    return hit?.version === memoVersion(policy) ? hit.outcome : undefined;
  }

  /** The memoized compile outcome of this exact policy generation. */
  compile(policy: GovernedResource): CompileOutcome<TCompiled> {
    const uid = memoKey(policy);
    const version = memoVersion(policy);
    const hit = this.#compiled.get(uid);
    if (hit?.version === version) return hit.outcome;
    let outcome: CompileOutcome<TCompiled>;
    try {
      outcome = this.#engine.compile(policy);
    } catch (err) {
      // The engine should return errors, not throw; a throw still must not take the controller down.
      // No engine-shaped rejection exists for a throw; the policy is left out of the set and its status says why.
      outcome = { ok: false, errors: [{ path: "spec", message: err instanceof Error ? err.message : String(err) }], rejected: undefined };
    }
    this.#compiled.set(uid, { version, outcome });
    return outcome;
  }

  /** Whether a compiled contract decides for its audience in the current set (undefined for policies). */
  contractStanding(compiled: TCompiled, namespaceLabels: (namespace: string) => Readonly<Record<string, string>> | undefined) {
    return this.#engine.contractStanding(compiled, this.#current, namespaceLabels);
  }

  /** Guardrail violations of a compiled policy against the current set. */
  guardrailViolations(compiled: TCompiled, namespaceLabels: Readonly<Record<string, string>>) {
    return this.#engine.guardrailViolations(compiled, this.#current, namespaceLabels);
  }

  /** Rebuilds from every policy now in the caches; only compiled ones take part. */
  rebuild(policies: readonly GovernedResource[]): void {
    const live = new Set<string>();
    const compiled: TCompiled[] = [];
    const rejected: unknown[] = [];
    for (const p of policies) {
      live.add(memoKey(p));
      const outcome = this.compile(p);
      if (outcome.ok) compiled.push(outcome.compiled);
      else if (outcome.rejected !== undefined) rejected.push(outcome.rejected);
    }
    for (const uid of this.#compiled.keys()) if (!live.has(uid)) this.#compiled.delete(uid);
    this.#current = this.#engine.buildSet(compiled, rejected);
    this.#rebuilds++;
    this.#log.debug({ policies: policies.length, compiled: compiled.length, rejected: rejected.length }, "policy set rebuilt");
  }
}

function memoKey(policy: GovernedResource): string {
  return policy.metadata.uid ?? `${policy.kind}/${policy.metadata.namespace ?? ""}/${policy.metadata.name}`;
}

/** generation moves only with the spec, so status writes do not cause recompiles. */
function memoVersion(policy: GovernedResource): string {
  return policy.metadata.generation === undefined ? `rv:${policy.metadata.resourceVersion ?? ""}` : `g:${policy.metadata.generation}`;
}
