// The CPU budget of one decision's CEL evaluations: every expression evaluated for a decision charges one meter.
import { DECISION_COST_BUDGET } from "./limits.ts";

/**
 * Counts cost units (limits.ts) against a budget. Create one per decision and pass it to every
 * `CompiledExpression.evaluate` the decision makes (conditions, claims, audience contracts), so the decision as
 * a whole stays within the budget; never share one between decisions. Once spent, it stays spent: every later
 * charge fails, so every loop stops at its next iteration and every later evaluation fails at once.
 */
export class CostMeter {
  readonly budget: number;
  #spent = 0;

  constructor(budget: number = DECISION_COST_BUDGET) {
    if (!Number.isFinite(budget) || budget < 0) throw new TypeError(`a cost budget is a finite number >= 0, not ${budget}`);
    this.budget = budget;
  }

  /** Units charged so far (may pass the budget by the charge that exhausted it). */
  get spent(): number {
    return this.#spent;
  }

  get remaining(): number {
    return Math.max(0, this.budget - this.#spent);
  }

  get exceeded(): boolean {
    return this.#spent > this.budget;
  }

  /** Adds `units`; false when the budget is (or already was) exceeded, and the caller must not do the work. */
  charge(units: number): boolean {
    if (this.exceeded) return false;
    this.#spent += units;
    return !this.exceeded;
  }
}
