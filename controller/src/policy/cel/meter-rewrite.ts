// Rewrites a checked expression so its loops are metered: each iteration is charged, and stops once the budget is spent.
//
// Every comprehension (the macros all, exists, exists_one, map, filter) becomes
//   range:     @tessera.range(range)                    charged by its entries before the loop reads it
//   condition: @tessera.tick(units) && condition         charged before every iteration
// where `units` counts the syntax nodes one iteration evaluates (nested loops charge their own iterations).
// When the budget is spent the tick is false, `&&` is false whatever the rest says, and the loop ends: nested
// loops included, and no operator can absorb it, because the meter itself stays spent and the evaluation's
// result is discarded for it (expression.ts). Everything outside loops is charged once, up front: `onceUnits`.

import type { Expr } from "./check.ts";
import { RANGE_FUNCTION, TICK_FUNCTION } from "./cost-model.ts";

/** Nodes the rewrite adds to each iteration: the `&&`, the tick call and its argument. */
export const TICK_NODES = 3;
/** Nodes the rewrite adds to each comprehension outside its iterations: the range call. */
export const RANGE_NODES = 1;

/** Meters `expr` in place (it must not be planned before) and returns the units to charge before evaluating it. */
export function meterLoops(expr: Expr): number {
  const once = onceNodes(expr);
  rewrite(expr);
  return once;
}

/** Nodes evaluated once per evaluation of `expr`, leaving out the iterations of loops inside it. */
export function onceNodes(expr: Expr): number {
  const kind = expr.exprKind;
  switch (kind.case) {
    case "comprehensionExpr": {
      const c = kind.value;
      return 1 + RANGE_NODES + count(c.iterRange) + count(c.accuInit) + count(c.result);
    }
    default:
      return 1 + children(expr).reduce((sum, child) => sum + onceNodes(child), 0);
  }
}

/** Nodes one iteration of the comprehension evaluates, beyond its own nested loops' iterations. */
export function iterationNodes(c: Comprehension): number {
  return TICK_NODES + count(c.loopCondition) + count(c.loopStep);
}

type Comprehension = Extract<Expr["exprKind"], { case: "comprehensionExpr" }>["value"];

function count(expr: Expr | undefined): number {
  return expr === undefined ? 0 : onceNodes(expr);
}

function rewrite(expr: Expr): void {
  const kind = expr.exprKind;
  if (kind.case !== "comprehensionExpr") {
    for (const child of children(expr)) rewrite(child);
    return;
  }
  const c = kind.value;
  const units = iterationNodes(c);
  for (const part of [c.iterRange, c.accuInit, c.loopCondition, c.loopStep, c.result]) {
    if (part !== undefined) rewrite(part);
  }
  if (c.iterRange !== undefined) c.iterRange = call(RANGE_FUNCTION, [c.iterRange]);
  if (c.loopCondition !== undefined) {
    c.loopCondition = call("_&&_", [call(TICK_FUNCTION, [intConstant(units)]), c.loopCondition]);
  }
}

/** The direct sub-expressions of a node that is not a comprehension. */
export function children(expr: Expr): Expr[] {
  const kind = expr.exprKind;
  switch (kind.case) {
    case "selectExpr":
      return kind.value.operand === undefined ? [] : [kind.value.operand];
    case "callExpr":
      return [...(kind.value.target === undefined ? [] : [kind.value.target]), ...kind.value.args];
    case "listExpr":
      return [...kind.value.elements];
    case "structExpr":
      return kind.value.entries.flatMap((entry) => [
        ...(entry.keyKind.case === "mapKey" ? [entry.keyKind.value] : []),
        ...(entry.value === undefined ? [] : [entry.value]),
      ]);
    case "comprehensionExpr": {
      const c = kind.value;
      return [c.iterRange, c.accuInit, c.loopCondition, c.loopStep, c.result].filter((e) => e !== undefined);
    }
    default:
      return [];
  }
}

// New nodes get id 0: they have no position in the source, and their errors are reported as the meter's.
function call(fn: string, args: Expr[]): Expr {
  return {
    $typeName: "cel.expr.Expr",
    id: 0n,
    exprKind: { case: "callExpr", value: { $typeName: "cel.expr.Expr.Call", function: fn, args } },
  };
}

function intConstant(n: number): Expr {
  // Built apart so the literal is not typed against the whole oneof, whose duration/timestamp cases are deprecated.
  const constantKind = { case: "int64Value" as const, value: BigInt(n) };
  return {
    $typeName: "cel.expr.Expr",
    id: 0n,
    exprKind: {
      case: "constExpr",
      value: { $typeName: "cel.expr.Constant", constantKind },
    },
  };
}
