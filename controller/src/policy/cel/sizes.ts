// The largest size a value may have, as the static cost estimate and the input bounds reason about it.

import type { Measure } from "./cost-model.ts";
import { ELEMENT_WEIGHT } from "./limits.ts";

/**
 * At most `n` characters (string, bytes), elements (list), entries (map); objects have fixed fields.
 * `exact` marks a string whose length is known (a literal): its shortest length is then `n`, not 0.
 */
export type Sz =
  | { readonly kind: "string"; readonly n: number; readonly exact?: boolean; readonly literal?: string }
  | { readonly kind: "list"; readonly n: number; readonly elem: Sz }
  | { readonly kind: "map"; readonly n: number; readonly key: Sz; readonly value: Sz }
  | { readonly kind: "object"; readonly fields: Readonly<Record<string, Sz>> }
  | { readonly kind: "scalar" }
  | { readonly kind: "dyn"; readonly n: number };

/** Numbers, bools, timestamps...: nothing to walk; written out, at most a few dozen characters. */
export const SCALAR: Sz = { kind: "scalar" };
export const SCALAR_TEXT_CHARS = 40;
/** A value the estimate knows nothing about (behind `dyn`): as large as anything an expression can hold. */
export const UNKNOWN: Sz = { kind: "dyn", n: 1 << 20 };

export function str(n: number, exact = false): Sz {
  return exact ? { kind: "string", n, exact } : { kind: "string", n };
}

export function listOf(n: number, elem: Sz): Sz {
  return { kind: "list", n, elem };
}

export function mapOf(n: number, key: Sz, value: Sz): Sz {
  return { kind: "map", n, key, value };
}

export function objectOf(fields: Readonly<Record<string, Sz>>): Sz {
  return { kind: "object", fields };
}

/** Characters or entries, for rules that read a length. */
export function lengthOf(s: Sz): number {
  switch (s.kind) {
    case "string":
    case "list":
    case "map":
    case "dyn":
      return s.n;
    case "object":
      return Object.keys(s.fields).length;
    case "scalar":
      return SCALAR_TEXT_CHARS;
  }
}

/** The deep weight (cost-model.ts) of the largest value of this size. */
export function weightOf(s: Sz): number {
  switch (s.kind) {
    case "string":
      return s.n;
    case "list":
      return s.n * (ELEMENT_WEIGHT + weightOf(s.elem));
    case "map":
      return s.n * (ELEMENT_WEIGHT + weightOf(s.key) + weightOf(s.value));
    case "object":
      return Object.values(s.fields).reduce((sum, f) => sum + ELEMENT_WEIGHT + weightOf(f), 0);
    case "scalar":
      return 0;
    case "dyn":
      return s.n * ELEMENT_WEIGHT;
  }
}

/** The smallest size both fit in. */
export function joinSz(a: Sz, b: Sz): Sz {
  if (a.kind === "string" && b.kind === "string") {
    if (a.n === b.n && a.exact === true && b.exact === true) return a.literal === b.literal ? a : str(a.n, true);
    return str(Math.max(a.n, b.n));
  }
  if (a.kind === "list" && b.kind === "list") return listOf(Math.max(a.n, b.n), joinSz(a.elem, b.elem));
  if (a.kind === "map" && b.kind === "map") return mapOf(Math.max(a.n, b.n), joinSz(a.key, b.key), joinSz(a.value, b.value));
  if (a.kind === "scalar" && b.kind === "scalar") return SCALAR;
  if (a.kind === "object" && b.kind === "object" && a === b) return a;
  return { kind: "dyn", n: Math.max(lengthOf(a), lengthOf(b), weightOf(a), weightOf(b)) };
}

/** How the cost model sees a value of this size. A value of unknown shape is charged as its weight in characters. */
export function measureOf(s: Sz): Measure {
  const weight = weightOf(s);
  switch (s.kind) {
    case "string":
      return {
        kind: "string",
        len: s.n,
        minLen: s.exact === true ? s.n : 0,
        ...(s.literal === undefined ? {} : { text: s.literal }),
        weight: () => weight,
      };
    case "list":
      return { kind: "list", len: s.n, minLen: 0, weight: () => weight };
    case "map":
    case "object":
      return { kind: "map", len: lengthOf(s), minLen: 0, weight: () => weight };
    case "scalar":
      return { kind: "scalar", len: 1, minLen: 1, weight: () => 0 };
    case "dyn":
      return { kind: "string", len: Math.max(s.n, weight), minLen: 0, weight: () => weight };
  }
}
