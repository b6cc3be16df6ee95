// One policy expression: parsed, bounded, type-checked and planned once; evaluated against many subjects.

import { isCelError, isCelList, isCelMap, isCelUint, parse, type CelValue } from "@bufbuild/cel";
import type { JsonValue } from "../types.ts";
import { CelTypeError, checkExpr, type Expr } from "./check.ts";
import { estimateCost } from "./cost-estimate.ts";
import type { CostMeter } from "./cost-meter.ts";
import { inputProblems, problemFor, readPaths, type InputProblem } from "./input-bounds.ts";
import {
  DECISION_COST_BUDGET,
  MAX_CLAIM_JSON_BYTES,
  MAX_COMPREHENSION_DEPTH,
  MAX_EXPRESSION_LENGTH,
  MAX_EXPRESSION_NODES,
} from "./limits.ts";
import { meterLoops } from "./meter-rewrite.ts";
import { meteredRuntime, type MeteredProgram } from "./metered-env.ts";
import { typeName, type CelT } from "./types.ts";
import { rewriteReservedVariables, type Rewritten } from "./reserved-names.ts";
import { INPUT_PROBLEMS, VARIABLES, VARIABLE_SIZES, type Bindings } from "./variables.ts";

/** What the expression's value is used for, which decides the result types allowed. */
export type ExpressionUse = "condition" | "claim";

/**
 * Why an evaluation failed: `CostLimitExceeded` when the decision's cost budget ran out or an input the
 * expression reads is beyond its bound (the result would not be trustworthy within the budget);
 * `EvaluationFailed` for everything else (a missing key, a type mismatch at run time, a claim too large).
 */
export type EvalErrorCode = "EvaluationFailed" | "CostLimitExceeded";

export type EvalResult<V> =
  | { readonly ok: true; readonly value: V }
  | { readonly ok: false; readonly code: EvalErrorCode; readonly error: string };

export interface CompiledExpression {
  readonly source: string;
  /** The checked result type, e.g. `bool`, `string`, `list(string)`. */
  readonly type: string;
  /** Worst-case cost in units on the largest inputs the bounds allow (at most DECISION_COST_BUDGET). */
  readonly worstCaseCost: number;
  /** Evaluates with every step charged to `meter`, the one meter of the decision being made. */
  evaluate(bindings: Bindings, meter: CostMeter): EvalResult<CelValue>;
}

export type ExpressionResult =
  | { readonly ok: true; readonly expression: CompiledExpression }
  | { readonly ok: false; readonly message: string };

/** compileExpression's shape, so a caller can put a memo in front of it. */
export type ExpressionCompiler = (source: string, use: ExpressionUse) => ExpressionResult;

/**
 * One environment for every policy: the standard library plus the strings extension, no I/O, every call metered.
 * Its only mutable part is the slot that holds the meter while an evaluation runs (metered-env.ts says why that
 * is safe to share); compiled programs keep nothing between evaluations.
 */
const runtime = meteredRuntime();

export function compileExpression(source: string, use: ExpressionUse): ExpressionResult {
  if (source.trim() === "") return { ok: false, message: "expression is empty" };
  if (source.length > MAX_EXPRESSION_LENGTH) {
    return { ok: false, message: `expression is longer than ${MAX_EXPRESSION_LENGTH} characters` };
  }
  const rewritten = rewriteReservedVariables(source);
  let parsed;
  try {
    parsed = parse(rewritten.source);
  } catch (error) {
    return { ok: false, message: rewritten.restoreNames(syntaxErrorText(error, rewritten)) };
  }
  const shape = measure(parsed.expr, 0);
  if (shape.nodes > MAX_EXPRESSION_NODES) {
    return { ok: false, message: `expression is too complex (${shape.nodes} nodes, at most ${MAX_EXPRESSION_NODES})` };
  }
  if (shape.depth > MAX_COMPREHENSION_DEPTH) {
    return { ok: false, message: `expression nests ${shape.depth} comprehensions, at most ${MAX_COMPREHENSION_DEPTH}` };
  }
  let type: CelT;
  try {
    type = checkExpr(parsed.expr, VARIABLES);
  } catch (error) {
    if (error instanceof CelTypeError) {
      const offset = parsed.sourceInfo?.positions[error.exprId.toString()];
      const message = rewritten.restoreNames(error.message);
      return {
        ok: false,
        message: offset === undefined ? message : `${message} (column ${rewritten.originalOffset(offset) + 1})`,
      };
    }
    throw error;
  }
  const problem = use === "condition" ? conditionTypeProblem(type) : claimTypeProblem(type);
  if (problem !== undefined) return { ok: false, message: rewritten.restoreNames(problem) };
  const worstCaseCost = estimateCost(parsed.expr, VARIABLE_SIZES);
  if (worstCaseCost > DECISION_COST_BUDGET) {
    return {
      ok: false,
      message:
        `expression may cost up to ${worstCaseCost} units on the largest inputs policies may read, ` +
        `over the CEL cost budget of ${DECISION_COST_BUDGET} units per decision (see docs/policy.md, "Cost")`,
    };
  }
  const reads = readPaths(parsed.expr);
  const onceUnits = meterLoops(parsed.expr);
  const program = runtime.plan(parsed);
  return {
    ok: true,
    expression: {
      source,
      type: typeName(type),
      worstCaseCost,
      evaluate: (bindings, meter) => evaluate(program, onceUnits, reads, bindings, meter, rewritten),
    },
  };
}

function evaluate(
  program: MeteredProgram,
  onceUnits: number,
  reads: ReadonlySet<string>,
  bindings: Bindings,
  meter: CostMeter,
  rewritten: Rewritten,
): EvalResult<CelValue> {
  const problems = (bindings[INPUT_PROBLEMS] as readonly InputProblem[] | undefined) ?? inputProblems(bindings, VARIABLE_SIZES);
  const tooLarge = problemFor(reads, problems);
  if (tooLarge !== undefined) {
    return {
      ok: false,
      code: "CostLimitExceeded",
      error: rewritten.restoreNames(`it reads an input beyond its bound: ${tooLarge.message}`),
    };
  }
  if (!meter.charge(onceUnits)) return costExceeded(meter);
  let value;
  try {
    value = program(bindings as Parameters<MeteredProgram>[0], meter);
  } catch (error) {
    return meter.exceeded ? costExceeded(meter) : { ok: false, code: "EvaluationFailed", error: errorText(error) };
  }
  // Checked after the value: a spent budget may have ended a loop early, and `||`, `&&` or `?:` may have
  // absorbed the error a charged call returned, so whatever came out is not the expression's answer.
  if (meter.exceeded) return costExceeded(meter);
  return isCelError(value)
    ? { ok: false, code: "EvaluationFailed", error: rewritten.restoreNames(value.message) }
    : { ok: true, value };
}

function costExceeded(meter: CostMeter): EvalResult<never> {
  return {
    ok: false,
    code: "CostLimitExceeded",
    error: `the decision's CEL cost budget of ${meter.budget} units is spent`,
  };
}

function conditionTypeProblem(type: CelT): string | undefined {
  return type.kind === "bool" || type.kind === "dyn" ? undefined : `condition must be bool, found '${typeName(type)}'`;
}

function claimTypeProblem(type: CelT): string | undefined {
  return jsonType(type) ? undefined : `claim value must be a JSON value, found '${typeName(type)}'`;
}

/** Types whose values are JSON: scalars, lists of JSON, maps with string keys. */
function jsonType(type: CelT): boolean {
  switch (type.kind) {
    case "bool":
    case "int":
    case "uint":
    case "double":
    case "string":
    case "null":
    case "dyn":
      return true;
    case "list":
      return jsonType(type.elem);
    case "map":
      return (type.key.kind === "string" || type.key.kind === "dyn") && jsonType(type.value);
    default:
      return false;
  }
}

/** Converts an evaluation result to a claim value, refusing what JSON cannot hold. */
export function toClaimValue(value: CelValue): EvalResult<JsonValue> {
  let converted: JsonValue;
  try {
    converted = toJson(value);
  } catch (error) {
    return { ok: false, code: "EvaluationFailed", error: errorText(error) };
  }
  const size = Buffer.byteLength(JSON.stringify(converted));
  if (size > MAX_CLAIM_JSON_BYTES) {
    return { ok: false, code: "EvaluationFailed", error: `claim value is ${size} bytes of JSON, at most ${MAX_CLAIM_JSON_BYTES}` };
  }
  return { ok: true, value: converted };
}

function toJson(value: CelValue): JsonValue {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`${value} is not a JSON number`);
    return value;
  }
  if (typeof value === "bigint") return safeNumber(value);
  if (isCelUint(value)) return safeNumber(value.value);
  if (isCelList(value)) return [...value].map(toJson);
  if (isCelMap(value)) {
    const out: Record<string, JsonValue> = {};
    for (const [key, entry] of value) {
      if (typeof key !== "string") throw new Error("map keys of a claim value must be strings");
      out[key] = toJson(entry);
    }
    return out;
  }
  throw new Error("value is not JSON (bytes, timestamp, duration and types are not claim values)");
}

function safeNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new Error(`${value} does not fit a JSON number exactly`);
  }
  return Number(value);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function measure(expr: Expr, depth: number): { nodes: number; depth: number } {
  let nodes = 1;
  let deepest = depth;
  const visit = (child: Expr | undefined, childDepth: number): void => {
    if (child === undefined) return;
    const m = measure(child, childDepth);
    nodes += m.nodes;
    deepest = Math.max(deepest, m.depth);
  };
  const kind = expr.exprKind;
  switch (kind.case) {
    case "selectExpr":
      visit(kind.value.operand, depth);
      break;
    case "callExpr":
      visit(kind.value.target, depth);
      for (const arg of kind.value.args) visit(arg, depth);
      break;
    case "listExpr":
      for (const element of kind.value.elements) visit(element, depth);
      break;
    case "structExpr":
      for (const entry of kind.value.entries) {
        if (entry.keyKind.case === "mapKey") visit(entry.keyKind.value, depth);
        visit(entry.value, depth);
      }
      break;
    case "comprehensionExpr": {
      const c = kind.value;
      visit(c.iterRange, depth);
      visit(c.accuInit, depth);
      for (const part of [c.loopCondition, c.loopStep, c.result]) visit(part, depth + 1);
      deepest = Math.max(deepest, depth + 1);
      break;
    }
    default:
      break;
  }
  return { nodes, depth: deepest };
}

/** The parser's message with the column in the author's source (the parser counts in the rewritten one). */
function syntaxErrorText(error: unknown, rewritten: Rewritten): string {
  if (typeof error === "object" && error !== null && "rawMessage" in error && "location" in error) {
    const { rawMessage, location } = error as { rawMessage: unknown; location: { start?: { offset?: unknown } } };
    const offset = location.start?.offset;
    if (typeof rawMessage === "string" && typeof offset === "number") {
      return `syntax error: ${rawMessage} (column ${rewritten.originalOffset(offset) + 1})`;
    }
  }
  return `syntax error: ${errorText(error)}`;
}
