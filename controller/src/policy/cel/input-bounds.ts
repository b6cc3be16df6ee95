// Inputs beyond their bounds: found once per decision, and refused to every expression that reads them.
//
// The static estimate holds only for inputs within the bounds it assumed (limits.ts). A larger input is never
// cut down to size (a truncated map would answer `has` and `in` wrongly); instead an expression that reads it
// is not evaluated, and the decision is denied naming the input and its bound.

import { isCelList, isCelMap } from "@bufbuild/cel";
import type { Expr } from "./check.ts";
import { children } from "./meter-rewrite.ts";
import type { Sz } from "./sizes.ts";

/** An input larger than its bound, by its path from a variable (`pod.annotations`, `actors`). */
export interface InputProblem {
  readonly path: string;
  readonly message: string;
}

/** Every input in `values` (variable name -> value) beyond the size `sizes` declares for it. */
export function inputProblems(values: Readonly<Record<string, unknown>>, sizes: ReadonlyMap<string, Sz>): InputProblem[] {
  const problems: InputProblem[] = [];
  for (const [name, size] of sizes) {
    if (Object.hasOwn(values, name)) check(values[name], size, name, problems);
  }
  return problems;
}

function check(value: unknown, size: Sz, path: string, problems: InputProblem[]): void {
  switch (size.kind) {
    case "string":
      if (typeof value === "string" && value.length > size.n) {
        problems.push({ path, message: `${path} is ${value.length} characters long, over the bound of ${size.n}` });
      }
      return;
    case "object":
      if (typeof value !== "object" || value === null) return;
      for (const [field, fieldSize] of Object.entries(size.fields)) {
        if (Object.hasOwn(value, field)) check((value as Record<string, unknown>)[field], fieldSize, `${path}.${field}`, problems);
      }
      return;
    case "list": {
      const items = listItems(value);
      if (items === undefined) return;
      if (items.length > size.n) {
        problems.push({ path, message: `${path} has ${items.length} entries, over the bound of ${size.n}` });
        return;
      }
      // An oversized element makes the whole list unreadable: reading the list reads it.
      const inner: InputProblem[] = [];
      for (const [i, item] of items.entries()) check(item, size.elem, `${path}[${i}]`, inner);
      const first = inner[0];
      if (first !== undefined) problems.push({ path, message: first.message });
      return;
    }
    case "map": {
      const count = entryCount(value);
      if (count === undefined) return;
      if (count > size.n) {
        problems.push({ path, message: `${path} has ${count} entries, over the bound of ${size.n}` });
        return;
      }
      // Only now, with at most size.n of them, are the entries read.
      for (const [key, item] of mapEntries(value)) {
        if (typeof key === "string" && key.length > lengthBound(size.key)) {
          problems.push({ path, message: `${path} has a key of ${key.length} characters, over the bound of ${lengthBound(size.key)}` });
          return;
        }
        if (typeof item === "string" && item.length > lengthBound(size.value)) {
          problems.push({
            path,
            message: `${path}["${String(key).slice(0, 64)}"] is ${item.length} characters long, over the bound of ${lengthBound(size.value)}`,
          });
          return;
        }
      }
      return;
    }
    default:
      return;
  }
}

function lengthBound(size: Sz): number {
  return size.kind === "string" ? size.n : Infinity;
}

function listItems(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value as unknown[];
  if (isCelList(value)) return [...value];
  return undefined;
}

/** Entries of a map-like value without copying them (20,000 annotations would take milliseconds to copy). */
function entryCount(value: unknown): number | undefined {
  if (isCelMap(value) || value instanceof Map) return value.size;
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return Object.keys(value).length;
  return undefined;
}

function mapEntries(value: unknown): Iterable<readonly [unknown, unknown]> {
  if (isCelMap(value) || value instanceof Map) return value;
  return Object.entries(value as object);
}

/**
 * The inputs an expression may read, as paths: `pod.annotations` for `pod.annotations["team"]`, `pod` for
 * `dyn(pod)` (a variable used whole reads everything in it). Conservative: a read in a branch that is never taken
 * still counts.
 */
export function readPaths(expr: Expr): ReadonlySet<string> {
  const paths = new Set<string>();
  const visit = (e: Expr, bound: ReadonlySet<string>): void => {
    const path = selectPath(e);
    if (path !== undefined) {
      const root = path.split(".")[0] ?? "";
      if (!bound.has(root)) paths.add(path);
      return;
    }
    const kind = e.exprKind;
    if (kind.case === "comprehensionExpr") {
      const c = kind.value;
      // Loop variables shadow inputs of the same name inside the loop.
      const inner = new Set([...bound, c.iterVar, c.accuVar, ...(c.iterVar2 === "" ? [] : [c.iterVar2])]);
      for (const part of [c.iterRange, c.accuInit]) if (part !== undefined) visit(part, bound);
      for (const part of [c.loopCondition, c.loopStep, c.result]) if (part !== undefined) visit(part, inner);
      return;
    }
    for (const child of children(e)) visit(child, bound);
  };
  visit(expr, new Set());
  return paths;
}

/** `a.b.c` for a chain of field selections on an identifier, else undefined. */
function selectPath(e: Expr): string | undefined {
  const kind = e.exprKind;
  if (kind.case === "identExpr") return kind.value.name.replace(/^\./, "");
  if (kind.case === "selectExpr" && kind.value.operand !== undefined) {
    const operand = selectPath(kind.value.operand);
    return operand === undefined ? undefined : `${operand}.${kind.value.field}`;
  }
  return undefined;
}

/** The first problem an expression reading `reads` runs into. */
export function problemFor(reads: ReadonlySet<string>, problems: readonly InputProblem[]): InputProblem | undefined {
  return problems.find((p) => [...reads].some((r) => p.path === r || p.path.startsWith(`${r}.`) || r.startsWith(`${p.path}.`)));
}
