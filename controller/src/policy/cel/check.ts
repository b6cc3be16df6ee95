// Static type checker for policy expressions: names, fields, operators and calls resolved against declared types.
//
// @bufbuild/cel 0.6.1 parses and evaluates but its checker handles only constants and identifiers, so
// Tessera checks the parsed AST itself. The rules follow CEL's: undeclared names, unknown fields of declared
// objects, calls without a matching overload and ill-typed operators are errors; `dyn` defers to evaluation.

import type { parse } from "@bufbuild/cel";
import { FUNCTIONS, METHODS, type Overload } from "./functions.ts";
import { EMPTY, T, compatible, isNumeric, join, list, map, typeName, type CelT } from "./types.ts";

export type ParsedExpr = ReturnType<typeof parse>;
export type Expr = ParsedExpr["expr"];

/** A type error, with the id of the offending node so the caller can point at its position. */
export class CelTypeError extends Error {
  readonly exprId: bigint;
  constructor(message: string, exprId: bigint) {
    super(message);
    this.name = "CelTypeError";
    this.exprId = exprId;
  }
}

/** Names usable as type values (`type(x) == string`). */
const TYPE_NAMES = new Set(["bool", "int", "uint", "double", "string", "bytes", "list", "map", "null_type", "type"]);

type Scope = ReadonlyMap<string, CelT>;

/** Checks `expr` against the declared variables and returns its type, or throws CelTypeError. */
export function checkExpr(expr: Expr, variables: Scope): CelT {
  return new Checker(variables).check(expr, new Map());
}

class Checker {
  readonly #globals: Scope;

  constructor(globals: Scope) {
    this.#globals = globals;
  }

  check(expr: Expr, locals: Scope): CelT {
    const kind = expr.exprKind;
    switch (kind.case) {
      case "constExpr":
        return constType(kind.value.constantKind.case);
      case "identExpr":
        return this.#ident(kind.value.name, locals, expr.id);
      case "selectExpr": {
        const operand = kind.value.operand;
        if (operand === undefined) throw new CelTypeError("select without operand", expr.id);
        const fieldType = this.#select(this.check(operand, locals), kind.value.field, expr.id);
        return kind.value.testOnly ? T.bool : fieldType;
      }
      case "callExpr": {
        const target = kind.value.target === undefined ? undefined : this.check(kind.value.target, locals);
        const args = kind.value.args.map((arg) => this.check(arg, locals));
        return this.#call(kind.value.function, target, args, expr.id);
      }
      case "listExpr": {
        let elem: CelT = EMPTY;
        for (const element of kind.value.elements) elem = join(elem, this.check(element, locals));
        return list(elem);
      }
      case "structExpr": {
        if (kind.value.messageName !== "") {
          throw new CelTypeError(`undeclared reference to message '${kind.value.messageName}'`, expr.id);
        }
        let key: CelT = EMPTY;
        let value: CelT = EMPTY;
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case !== "mapKey" || entry.value === undefined) {
            throw new CelTypeError("malformed map literal", expr.id);
          }
          const k = this.check(entry.keyKind.value, locals);
          if (!["string", "int", "uint", "bool", "dyn"].includes(k.kind)) {
            throw new CelTypeError(`unsupported map key type '${typeName(k)}'`, entry.id);
          }
          key = join(key, k);
          value = join(value, this.check(entry.value, locals));
        }
        return map(key, value);
      }
      case "comprehensionExpr":
        return this.#comprehension(kind.value, locals, expr.id);
      case undefined:
        throw new CelTypeError("empty expression", expr.id);
    }
  }

  #ident(name: string, locals: Scope, id: bigint): CelT {
    const local = locals.get(name);
    if (local !== undefined) return local;
    const global = this.#globals.get(name.startsWith(".") ? name.slice(1) : name);
    if (global !== undefined) return global;
    if (TYPE_NAMES.has(name)) return T.type;
    throw new CelTypeError(`undeclared reference to '${name}'`, id);
  }

  #select(operand: CelT, field: string, id: bigint): CelT {
    switch (operand.kind) {
      case "object": {
        const declared = operand.fields[field];
        if (declared === undefined) {
          throw new CelTypeError(
            `undefined field '${field}' of ${operand.name} (fields: ${Object.keys(operand.fields).join(", ")})`,
            id,
          );
        }
        return declared.type;
      }
      case "map":
        if (operand.key.kind !== "string" && operand.key.kind !== "dyn") {
          throw new CelTypeError(`type '${typeName(operand)}' does not support field selection`, id);
        }
        return operand.value;
      case "dyn":
        return T.dyn;
      default:
        throw new CelTypeError(`type '${typeName(operand)}' does not support field selection`, id);
    }
  }

  #comprehension(
    c: Extract<Expr["exprKind"], { case: "comprehensionExpr" }>["value"],
    locals: Scope,
    id: bigint,
  ): CelT {
    if (
      c.iterRange === undefined ||
      c.accuInit === undefined ||
      c.loopCondition === undefined ||
      c.loopStep === undefined ||
      c.result === undefined
    ) {
      throw new CelTypeError("malformed comprehension", id);
    }
    const range = this.check(c.iterRange, locals);
    let iter: CelT;
    let iter2: CelT;
    switch (range.kind) {
      case "list":
        iter = c.iterVar2 === "" ? range.elem : T.int;
        iter2 = range.elem;
        break;
      case "map":
        iter = range.key;
        iter2 = range.value;
        break;
      case "dyn":
        iter = T.dyn;
        iter2 = T.dyn;
        break;
      default:
        throw new CelTypeError(`expression of type '${typeName(range)}' cannot be the range of a comprehension`, id);
    }
    const init = this.check(c.accuInit, locals);
    const inner = new Map(locals);
    inner.set(c.iterVar, iter);
    if (c.iterVar2 !== "") inner.set(c.iterVar2, iter2);
    inner.set(c.accuVar, init);
    expectBool(this.check(c.loopCondition, inner), "loop condition", c.loopCondition.id);
    // Widen the accumulator with what one step produces (e.g. `[] + [f(x)]`), then check the result with it.
    const step = this.check(c.loopStep, inner);
    const accu = join(init, step);
    if (!compatible(init, step)) {
      throw new CelTypeError(`comprehension step of type '${typeName(step)}' does not fit its accumulator`, id);
    }
    inner.set(c.accuVar, accu);
    return this.check(c.result, inner);
  }

  #call(name: string, target: CelT | undefined, args: readonly CelT[], id: bigint): CelT {
    const [a, b] = args;
    const fail = (): never => {
      const shown = [...(target === undefined ? [] : [target]), ...args].map(typeName).join(", ");
      throw new CelTypeError(`found no matching overload for '${displayName(name)}' applied to '(${shown})'`, id);
    };
    if (target === undefined && a !== undefined) {
      switch (name) {
        case "_&&_":
        case "_||_":
          for (const arg of args) expectBool(arg, `operand of ${displayName(name)}`, id);
          return T.bool;
        case "!_":
        case "@not_strictly_false":
          expectBool(a, "operand of !", id);
          return T.bool;
        case "-_":
          if (a.kind === "int" || a.kind === "double" || a.kind === "dyn") return a;
          return fail();
        case "_==_":
        case "_!=_":
          if (b === undefined || !compatible(a, b)) return fail();
          return T.bool;
        case "_<_":
        case "_<=_":
        case "_>_":
        case "_>=_":
          if (b === undefined || !comparable(a, b)) return fail();
          return T.bool;
        case "_+_":
        case "_-_":
        case "_*_":
        case "_/_":
        case "_%_":
          return b === undefined ? fail() : (arithmetic(name, a, b) ?? fail());
        case "_[_]":
          return b === undefined ? fail() : (index(a, b) ?? fail());
        case "_?_:_": {
          const c = args[2];
          if (b === undefined || c === undefined) return fail();
          expectBool(a, "condition of ?:", id);
          if (!compatible(b, c)) return fail();
          return join(b, c);
        }
        case "@in":
          if (b === undefined) return fail();
          if (b.kind === "list" && compatible(a, b.elem)) return T.bool;
          if (b.kind === "map" && compatible(a, b.key)) return T.bool;
          if (b.kind === "dyn") return T.bool;
          return fail();
        case "size":
          return sized(a) ? T.int : fail();
        case "type":
          return T.type;
      }
    }
    if (target !== undefined && name === "size" && args.length === 0) return sized(target) ? T.int : fail();
    const table = target === undefined ? FUNCTIONS : METHODS;
    const overloads = Object.hasOwn(table, name) ? table[name] : undefined;
    if (overloads === undefined) throw new CelTypeError(`undeclared reference to '${name}'`, id);
    const matching = overloads.filter((o) => overloadMatches(o, target, args));
    const [first, ...rest] = matching;
    if (first === undefined) return fail();
    // Several overloads fit only when an argument is dyn; their results agree or widen to dyn.
    return rest.reduce((acc, o) => join(acc, o.result), first.result);
  }
}

function overloadMatches(o: Overload, target: CelT | undefined, args: readonly CelT[]): boolean {
  if ((o.target === undefined) !== (target === undefined)) return false;
  if (o.target !== undefined && target !== undefined && !strictlyCompatible(o.target, target)) return false;
  return o.args.length === args.length && o.args.every((p, i) => strictlyCompatible(p, args[i] ?? T.null));
}

/** Like compatible, but null only fits null (a null literal is no string). */
function strictlyCompatible(expected: CelT, actual: CelT): boolean {
  if (actual.kind === "null" && expected.kind !== "null" && expected.kind !== "dyn") return false;
  return compatible(expected, actual);
}

function displayName(name: string): string {
  return name.startsWith("_") || name.startsWith("@") || name.endsWith("_") ? name.replaceAll("_", " ").trim() : name;
}

function expectBool(t: CelT, what: string, id: bigint): void {
  if (t.kind !== "bool" && t.kind !== "dyn") {
    throw new CelTypeError(`${what} must be bool, found '${typeName(t)}'`, id);
  }
}

function constType(kind: string | undefined): CelT {
  switch (kind) {
    case "boolValue":
      return T.bool;
    case "int64Value":
      return T.int;
    case "uint64Value":
      return T.uint;
    case "doubleValue":
      return T.double;
    case "stringValue":
      return T.string;
    case "bytesValue":
      return T.bytes;
    case "nullValue":
      return T.null;
    case "durationValue":
      return T.duration;
    case "timestampValue":
      return T.timestamp;
    default:
      return T.dyn;
  }
}

function sized(t: CelT): boolean {
  return ["string", "bytes", "list", "map", "dyn"].includes(t.kind);
}

function comparable(a: CelT, b: CelT): boolean {
  if (a.kind === "dyn" || b.kind === "dyn") return true;
  if (isNumeric(a) && isNumeric(b)) return true;
  return a.kind === b.kind && ["string", "bytes", "bool", "timestamp", "duration"].includes(a.kind);
}

function arithmetic(op: string, a: CelT, b: CelT): CelT | undefined {
  if (a.kind === "dyn" || b.kind === "dyn") {
    const other = a.kind === "dyn" ? b : a;
    return other.kind === "dyn" || op === "_+_" || op === "_-_" ? T.dyn : isNumeric(other) ? other : undefined;
  }
  if (isNumeric(a) && a.kind === b.kind) return op === "_%_" && a.kind === "double" ? undefined : a;
  if (op === "_+_") {
    if ((a.kind === "string" || a.kind === "bytes") && a.kind === b.kind) return a;
    if (a.kind === "list" && b.kind === "list") return compatible(a.elem, b.elem) ? list(join(a.elem, b.elem)) : undefined;
    if (a.kind === "timestamp" && b.kind === "duration") return a;
    if (a.kind === "duration" && b.kind === "timestamp") return b;
    if (a.kind === "duration" && b.kind === "duration") return a;
  }
  if (op === "_-_") {
    if (a.kind === "timestamp" && b.kind === "timestamp") return T.duration;
    if (a.kind === "timestamp" && b.kind === "duration") return a;
    if (a.kind === "duration" && b.kind === "duration") return a;
  }
  return undefined;
}

function index(container: CelT, key: CelT): CelT | undefined {
  switch (container.kind) {
    case "list":
      return key.kind === "int" || key.kind === "uint" || key.kind === "dyn" ? container.elem : undefined;
    case "map":
      return compatible(container.key, key) ? container.value : undefined;
    case "dyn":
      return T.dyn;
    default:
      return undefined;
  }
}
