// The static worst case of one expression, in cost units, on the largest inputs the bounds allow (limits.ts).
//
// It follows the meter rule for rule: every syntax node costs one unit (nodes inside a loop once per
// iteration, plus the tick), every call its sized cost (cost-model.ts) on the largest arguments it can receive,
// every loop runs over the largest range it can receive. Sizes flow through the tree: a label is at most 63
// characters, `a + b` at most both, `s.split(",")` at most one part per character... An expression whose worst
// case exceeds the decision budget could exhaust it alone, so compileExpression refuses it.

import type { Expr } from "./check.ts";
import { RANGE_FUNCTION, callUnits, replacedLength, splitParts } from "./cost-model.ts";
import { RANGE_NODES, TICK_NODES } from "./meter-rewrite.ts";
import { SCALAR, SCALAR_TEXT_CHARS, UNKNOWN, joinSz, lengthOf, listOf, mapOf, measureOf, str, weightOf, type Sz } from "./sizes.ts";

interface Estimate {
  readonly cost: number;
  readonly size: Sz;
}

type Scope = ReadonlyMap<string, Sz>;

/** Worst-case units of evaluating `expr` (checked, not yet rewritten) with variables no larger than `globals`. */
export function estimateCost(expr: Expr, globals: Scope): number {
  return new Estimator(globals).estimate(expr, new Map()).cost;
}

const TYPE_NAMES = new Set(["bool", "int", "uint", "double", "string", "bytes", "list", "map", "null_type", "type"]);

/** Calls the planner evaluates itself, with no sized cost: logic, the conditional, indexing. */
const UNCHARGED = new Set(["_&&_", "_||_", "_?_:_", "@not_strictly_false", "__not_strictly_false__", "_[_]", "_[?_]"]);

class Estimator {
  readonly #globals: Scope;

  constructor(globals: Scope) {
    this.#globals = globals;
  }

  estimate(expr: Expr, locals: Scope): Estimate {
    const kind = expr.exprKind;
    switch (kind.case) {
      case "constExpr": {
        const c = kind.value.constantKind;
        if (c.case === "stringValue") return { cost: 1, size: { kind: "string", n: c.value.length, exact: true, literal: c.value } };
        if (c.case === "bytesValue") return { cost: 1, size: str(c.value.length, true) };
        return { cost: 1, size: SCALAR };
      }
      case "identExpr": {
        const name = kind.value.name;
        // A type name (`type(x) == string`) is a scalar; a variable without a declared size could be anything.
        const size = locals.get(name) ?? this.#globals.get(name.replace(/^\./, "")) ?? (TYPE_NAMES.has(name) ? SCALAR : UNKNOWN);
        return { cost: 1, size };
      }
      case "selectExpr": {
        const operand = kind.value.operand === undefined ? undefined : this.estimate(kind.value.operand, locals);
        const cost = 1 + (operand?.cost ?? 0);
        if (kind.value.testOnly || operand === undefined) return { cost, size: SCALAR };
        return { cost, size: field(operand.size, kind.value.field) };
      }
      case "callExpr": {
        const target = kind.value.target === undefined ? undefined : this.estimate(kind.value.target, locals);
        const args = kind.value.args.map((arg) => this.estimate(arg, locals));
        const fn = kind.value.function;
        let cost = 1 + (target?.cost ?? 0) + args.reduce((sum, a) => sum + a.cost, 0);
        if (!UNCHARGED.has(fn)) {
          cost += callUnits(fn, target === undefined ? undefined : measureOf(target.size), args.map((a) => measureOf(a.size)));
        }
        return { cost, size: resultSize(fn, target?.size, args.map((a) => a.size)) };
      }
      case "listExpr": {
        const elements = kind.value.elements.map((e) => this.estimate(e, locals));
        const elem = elements.reduce<Sz | undefined>((acc, e) => (acc === undefined ? e.size : joinSz(acc, e.size)), undefined);
        return { cost: 1 + sum(elements), size: listOf(elements.length, elem ?? SCALAR) };
      }
      case "structExpr": {
        let cost = 1;
        let key: Sz | undefined;
        let value: Sz | undefined;
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === "mapKey") {
            const k = this.estimate(entry.keyKind.value, locals);
            cost += k.cost;
            key = key === undefined ? k.size : joinSz(key, k.size);
          }
          if (entry.value !== undefined) {
            const v = this.estimate(entry.value, locals);
            cost += v.cost;
            value = value === undefined ? v.size : joinSz(value, v.size);
          }
        }
        return { cost, size: mapOf(kind.value.entries.length, key ?? SCALAR, value ?? SCALAR) };
      }
      case "comprehensionExpr":
        return this.#comprehension(kind.value, locals);
      default:
        return { cost: 1, size: UNKNOWN };
    }
  }

  #comprehension(c: Extract<Expr["exprKind"], { case: "comprehensionExpr" }>["value"], locals: Scope): Estimate {
    if (c.iterRange === undefined || c.accuInit === undefined || c.loopCondition === undefined || c.loopStep === undefined || c.result === undefined) {
      return { cost: 1, size: UNKNOWN };
    }
    const range = this.estimate(c.iterRange, locals);
    const r = range.size;
    const n = lengthOf(r);
    const item = r.kind === "list" ? r.elem : r.kind === "map" ? r.key : UNKNOWN;
    const init = this.estimate(c.accuInit, locals);
    const scope = (accu: Sz): Scope => new Map([...locals, [c.iterVar, item], [c.accuVar, accu]]);
    // A list accumulator (map, filter) grows by what one step appends, at most once per item.
    let accu = init.size;
    if (accu.kind === "list") {
      const once = this.estimate(c.loopStep, scope(accu)).size;
      accu = listOf(accu.n + n, once.kind === "list" ? joinSz(accu.elem, once.elem) : UNKNOWN);
    }
    const inner = scope(accu);
    const iteration = TICK_NODES + this.estimate(c.loopCondition, inner).cost + this.estimate(c.loopStep, inner).cost;
    const result = this.estimate(c.result, inner);
    const cost =
      1 + RANGE_NODES + range.cost + init.cost + callUnits(RANGE_FUNCTION, undefined, [measureOf(r)]) + n * iteration + result.cost;
    return { cost, size: result.size };
  }
}

function sum(estimates: readonly Estimate[]): number {
  return estimates.reduce((total, e) => total + e.cost, 0);
}

function field(operand: Sz, name: string): Sz {
  switch (operand.kind) {
    case "object":
      return operand.fields[name] ?? UNKNOWN;
    case "map":
      return operand.value;
    default:
      return UNKNOWN;
  }
}

/** The largest result of a call, from the largest arguments. */
function resultSize(fn: string, target: Sz | undefined, args: readonly Sz[]): Sz {
  const [a, b, c] = args;
  const of = target ?? a;
  switch (fn) {
    case "_+_":
      if (a?.kind === "string" && b?.kind === "string") return str(a.n + b.n);
      if (a?.kind === "list" && b?.kind === "list") return listOf(a.n + b.n, joinSz(a.elem, b.elem));
      if (a?.kind === "scalar" && b?.kind === "scalar") return SCALAR;
      return a !== undefined && b !== undefined ? grown(a, b) : UNKNOWN;
    case "_[_]":
    case "_[?_]":
      if (a?.kind === "list") return a.elem;
      if (a?.kind === "map") return a.value;
      return UNKNOWN;
    case "_?_:_":
      return b !== undefined && c !== undefined ? joinSz(b, c) : UNKNOWN;
    case "replace":
      if (target?.kind === "string" && a !== undefined && b !== undefined) {
        return str(replacedLength(target.n, measureOf(a).minLen, lengthOf(b)));
      }
      return UNKNOWN;
    case "split":
      if (target?.kind === "string" && a !== undefined) return listOf(splitParts(target.n, measureOf(a).minLen), str(target.n));
      return UNKNOWN;
    case "join": {
      if (target?.kind !== "list") return UNKNOWN;
      const sep = a === undefined ? 0 : lengthOf(a);
      return str(target.n * lengthOf(target.elem) + Math.max(0, target.n - 1) * sep);
    }
    case "format":
      return str((target === undefined ? 0 : lengthOf(target)) + 4 * (a === undefined ? 0 : weightOf(a)));
    case "strings.quote":
      return str(2 * (a === undefined ? 0 : lengthOf(a)) + 2);
    case "lowerAscii":
    case "upperAscii":
    case "trim":
    case "substring":
    case "charAt":
      return of?.kind === "string" ? str(of.n) : UNKNOWN;
    case "string":
      return a?.kind === "string" ? str(a.n) : str(SCALAR_TEXT_CHARS);
    case "bytes":
      // UTF-8: at most three bytes per UTF-16 code unit.
      return a?.kind === "string" ? str(3 * a.n) : UNKNOWN;
    case "dyn":
      return a ?? UNKNOWN;
    default:
      // Predicates, sizes, numbers, conversions, time: scalars.
      return SCALAR;
  }
}

function grown(a: Sz, b: Sz): Sz {
  return { kind: "dyn", n: lengthOf(a) + lengthOf(b) + weightOf(a) + weightOf(b) };
}
