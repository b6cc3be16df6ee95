// What a call costs beyond its node, from the sizes of its arguments: one rule for the meter and the estimate.
//
// The meter (metered-env.ts) measures the values a call receives; the static estimate (cost-estimate.ts) uses the
// largest sizes those values may have. Both feed the same measures to `callUnits`, so an expression the estimate
// admits is charged at run time by the rule its estimate assumed.

import { ELEMENT_WEIGHT, WEIGHT_PER_UNIT } from "./limits.ts";

/** Charges an iteration's units; false once the budget is spent, which ends the loop. Not callable from source. */
export const TICK_FUNCTION = "@tessera.tick";
/** Charges a comprehension's range by its entries and passes it on. Not callable from source. */
export const RANGE_FUNCTION = "@tessera.range";

/** The size of one argument: characters of a string or bytes, entries of a list or map. */
export interface Measure {
  readonly kind: "string" | "list" | "map" | "scalar";
  readonly len: number;
  /** The shortest it may be (what it is, at run time; a literal's length, or 0, in the estimate). */
  readonly minLen: number;
  /** The string itself, when known (at run time; a literal in the estimate): the size of a regular expression. */
  readonly text?: string;
  /** Everything inside, deeply: characters count 1, list elements and map entries ELEMENT_WEIGHT. */
  weight(): number;
}

/** Extra units of a call to `fn` (the node itself is counted with the syntax tree). */
export function callUnits(fn: string, target: Measure | undefined, args: readonly Measure[]): number {
  return Math.ceil(callWeight(fn, target, args) / WEIGHT_PER_UNIT);
}

function callWeight(fn: string, target: Measure | undefined, args: readonly Measure[]): number {
  const [a, b] = args;
  switch (fn) {
    case "size": {
      const of = target ?? a;
      // Lists, maps and bytes know their size; a string's size counts code points, a character at a time
      // (measured at twice the cost of the engine's own scans).
      return of?.kind === "string" ? 2 * of.len : 0;
    }
    case "@in":
      // A map lookup is one hash probe; a list is scanned and each element compared.
      return b?.kind === "map" ? (a?.weight() ?? 0) : all(target, args);
    case "matches": {
      const subject = target ?? a;
      const pattern = target === undefined ? b : a;
      if (subject === undefined || pattern === undefined) return all(target, args);
      // @bufbuild/re2 simulates the compiled pattern over the subject: about program-size work per character.
      const program = pattern.text === undefined ? pattern.len * MAX_REPEAT : regexProgramSize(pattern.text);
      return WEIGHT_PER_UNIT * (subject.len * (2 + program / 8) + 2 * program);
    }
    case "replace": {
      if (target === undefined || a === undefined || b === undefined) return all(target, args);
      return target.len + replacedLength(target.len, a.minLen, b.len);
    }
    case "split": {
      if (target === undefined || a === undefined) return all(target, args);
      return target.len + ELEMENT_WEIGHT * splitParts(target.len, a.minLen);
    }
    case "join":
      if (target === undefined) return all(target, args);
      return target.weight() + target.len * (a?.len ?? 0);
    case "format":
      // Output is the format string plus each argument written out (a number at most a few dozen characters).
      return (target?.len ?? 0) + 4 * (a?.weight() ?? 0);
    case "strings.quote":
      return 2 * (a?.len ?? 0);
    case RANGE_FUNCTION:
      // Reading the range into the loop: one step per entry.
      return ELEMENT_WEIGHT * (a?.len ?? 0);
    case "_+_":
      // Lists are copied element by element through the library's iterators: about a unit per element (measured).
      if (a?.kind === "list" && b?.kind === "list") return WEIGHT_PER_UNIT * (a.len + b.len);
      return all(target, args);
    default:
      return all(target, args);
  }
}

function all(target: Measure | undefined, args: readonly Measure[]): number {
  let sum = target?.weight() ?? 0;
  for (const arg of args) sum += arg.weight();
  return sum;
}

/** RE2's largest repetition count; a pattern whose text is not known may repeat that much. */
const MAX_REPEAT = 1000;

/**
 * An upper bound on the size of the program RE2 compiles `pattern` to: `x{n}` repeats x n times (RE2 refuses
 * counts above 1000, nested ones included), so the source length times the largest count bounds it.
 */
export function regexProgramSize(pattern: string): number {
  let largest = 1;
  for (const match of pattern.matchAll(/\{(\d+)(?:,(\d*))?\}/g)) {
    const count = Number(match[2] === undefined || match[2] === "" ? match[1] : match[2]);
    largest = Math.max(largest, Math.min(MAX_REPEAT, count));
  }
  return pattern.length * largest;
}

/** Longest result of replacing every `old` in a string of `len` characters with `replacement`. */
export function replacedLength(len: number, old: number, replacement: number): number {
  // An empty `old` matches before every character and at the end.
  const occurrences = old === 0 ? len + 1 : Math.floor(len / old);
  return len + occurrences * replacement;
}

/** Most parts splitting a string of `len` characters on a separator of `sep` characters gives. */
export function splitParts(len: number, sep: number): number {
  return sep === 0 ? len : Math.floor(len / sep) + 1;
}
