// The CEL environment policies run in: the standard library, the strings extension made linear, and a meter on every call.
//
// @bufbuild/cel has no cost hook, so the meter enters in two places. Function calls: the environment hands the
// planner a resolver whose every function group charges the call's sized cost (cost-model.ts) before running it.
// Loops: meter-rewrite.ts makes each comprehension call TICK_FUNCTION before every iteration and pass its range
// through RANGE_FUNCTION. Both read the meter of the evaluation in progress from a MeterSlot (see meteredRuntime).

import {
  CelScalar,
  celEnv,
  celError,
  celFunc,
  celList,
  isCelList,
  isCelMap,
  listType,
  plan,
  type CelEnv,
  type CelFunc,
  type CelList,
  type CelMap,
  type CelResult,
  type CelValue,
} from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { RANGE_FUNCTION, TICK_FUNCTION, callUnits, type Measure } from "./cost-model.ts";
import type { CostMeter } from "./cost-meter.ts";
import { ELEMENT_WEIGHT, WEIGHT_PER_UNIT } from "./limits.ts";
import { LINEAR_STRING_FUNCTIONS } from "./linear-strings.ts";

/** The message of the error a call returns when the budget is spent (the meter says so too). */
export const COST_ERROR = "cost budget exceeded";

type Planned = ReturnType<typeof plan>;
type Parsed = Parameters<typeof plan>[1];
type Activation = Parameters<Planned>[0];

/** Evaluates a planned expression with `meter` charged for everything it does. */
export type MeteredProgram = (bindings: Activation, meter: CostMeter) => CelResult;

export interface MeteredRuntime {
  plan(expr: Parsed): MeteredProgram;
}

/** Where the functions of one environment find the meter of the evaluation in progress. */
interface MeterSlot {
  meter: CostMeter | undefined;
}

/**
 * One environment and its slot. Evaluation is synchronous from start to end and no CEL function calls back into
 * an evaluation, so while `program(bindings)` runs the slot holds exactly the meter passed for that evaluation;
 * it is restored in `finally`, so no meter outlives its evaluation or is seen by another one. Nothing else is
 * kept between evaluations: the slot is per runtime, the meter per decision.
 */
export function meteredRuntime(): MeteredRuntime {
  const slot: MeterSlot = { meter: undefined };
  const base = celEnv({ funcs: [...strings, ...LINEAR_STRING_FUNCTIONS, LIST_CONCAT, ...meterFunctions(slot)] });
  // plan() reads only these members of an environment; the planner then resolves every call through `funcs`.
  const env = {
    namespace: base.namespace,
    registry: base.registry,
    variables: base.variables,
    funcs: meteredResolver(base.funcs, slot),
  } as unknown as CelEnv;
  return {
    plan(expr) {
      const program = plan(env, expr);
      return (bindings, meter) => {
        const previous = slot.meter;
        slot.meter = meter;
        try {
          return program(bindings);
        } finally {
          slot.meter = previous;
        }
      };
    },
  };
}

/**
 * Lists are concatenated by copying: the library's lazy concatenation nests one level per `+`, so the list a
 * `map` or `filter` builds over n items takes n² steps to read back (and overflows the stack past ~8k items).
 */
const LIST_CONCAT = celFunc("_+_", [listType(CelScalar.DYN), listType(CelScalar.DYN)], listType(CelScalar.DYN), (a, b) =>
  celList([...a, ...b]),
);

function meterFunctions(slot: MeterSlot): CelFunc[] {
  return [
    celFunc(TICK_FUNCTION, [CelScalar.INT], CelScalar.BOOL, (units) => slot.meter?.charge(Number(units)) ?? false),
    // The range is charged by the group wrapper (cost-model.ts); the function itself passes it through.
    celFunc(RANGE_FUNCTION, [CelScalar.DYN], CelScalar.DYN, (range) => range),
  ];
}

interface Group {
  readonly name: string;
  [Symbol.iterator](): IterableIterator<CelFunc>;
  call(id: number, target: CelValue | undefined, args: CelValue[]): CelResult | undefined;
}

interface Resolver {
  [Symbol.iterator](): IterableIterator<CelFunc>;
  find(name: string): Group | undefined;
}

function meteredResolver(inner: CelEnv["funcs"], slot: MeterSlot): Resolver {
  const source = inner as unknown as Resolver;
  const groups = new Map<string, Group | undefined>();
  return {
    [Symbol.iterator]: () => source[Symbol.iterator](),
    find(name) {
      if (!groups.has(name)) {
        const group = source.find(name);
        groups.set(name, group === undefined ? undefined : meteredGroup(group, slot));
      }
      return groups.get(name);
    },
  };
}

/** Charges once per call (not per overload tried), before the function runs. */
function meteredGroup(group: Group, slot: MeterSlot): Group {
  return {
    name: group.name,
    [Symbol.iterator]: () => group[Symbol.iterator](),
    call(id, target, args) {
      const meter = slot.meter;
      if (meter === undefined) return celError("evaluated without a cost meter", id);
      // A walk over a deep argument stops once it has weighed more than the budget can pay for.
      const cap = (meter.remaining + 1) * WEIGHT_PER_UNIT;
      const units = callUnits(
        group.name,
        target === undefined ? undefined : measure(target, cap),
        args.map((arg) => measure(arg, cap)),
      );
      if (!meter.charge(units)) return celError(COST_ERROR, id);
      return group.call(id, target, args);
    },
  };
}

const SCALAR: Measure = { kind: "scalar", len: 1, minLen: 1, weight: () => 0 };

export function measure(value: CelValue, cap: number): Measure {
  if (typeof value === "string") return { kind: "string", len: value.length, minLen: value.length, text: value, weight: () => value.length };
  if (value instanceof Uint8Array) return { kind: "string", len: value.length, minLen: value.length, weight: () => value.length };
  if (isCelList(value)) return { kind: "list", len: value.size, minLen: value.size, weight: () => weigh(value, cap) };
  if (isCelMap(value)) return { kind: "map", len: value.size, minLen: value.size, weight: () => weigh(value, cap) };
  return SCALAR;
}

/** Characters plus ELEMENT_WEIGHT per element or entry, all the way down; stops once past `cap`. */
function weigh(root: CelList | CelMap, cap: number): number {
  let total = 0;
  const pending: unknown[] = [root];
  while (pending.length > 0 && total <= cap) {
    const value = pending.pop();
    if (typeof value === "string" || value instanceof Uint8Array) {
      total += value.length;
    } else if (isCelList(value)) {
      total += ELEMENT_WEIGHT * value.size;
      for (const item of value) pending.push(item);
    } else if (isCelMap(value)) {
      total += ELEMENT_WEIGHT * value.size;
      for (const [key, item] of value) pending.push(key, item);
    }
  }
  return total;
}
