// String functions in linear time, replacing the library's where it is slower or differs from CEL's strings extension.
//
// Measured on @bufbuild/cel 0.6.1 (docs/benchmarks.md): `replace` rebuilds and searches the whole string once per
// occurrence (quadratic: 0.17 s for 32k replacements in 64k characters); `split(sep, n)` drops the remainder
// where the strings extension keeps it as the last part; `size` of a string copies it into an array of code
// points; `lowerAscii`/`upperAscii` build the result a character at a time. These replacements keep the strings
// extension's semantics (as Go's strings.Replace, strings.SplitN and strings.Join define them) and are linear.

import { CelScalar, celFunc, celList, celMethod, listType, type CelList } from "@bufbuild/cel";

/** `s.replace(old, replacement[, limit])`: the first `limit` occurrences (all when negative or absent). */
export function replaceLinear(s: string, old: string, replacement: string, limit = -1): string {
  if (limit === 0 || old === replacement) return s;
  const parts: string[] = [];
  let done = 0;
  if (old === "") {
    // An empty `old` matches before every code point and at the end.
    for (const ch of s) {
      if (limit >= 0 && done >= limit) {
        parts.push(ch);
        continue;
      }
      parts.push(replacement, ch);
      done++;
    }
    if (limit < 0 || done < limit) parts.push(replacement);
    return parts.join("");
  }
  let from = 0;
  while (limit < 0 || done < limit) {
    const at = s.indexOf(old, from);
    if (at < 0) break;
    parts.push(s.slice(from, at), replacement);
    from = at + old.length;
    done++;
  }
  parts.push(s.slice(from));
  return parts.join("");
}

/** `s.split(sep[, limit])`: at most `limit` parts, the last holding the rest (all parts when negative or absent). */
export function splitLinear(s: string, sep: string, limit = -1): string[] {
  if (limit === 0) return [];
  if (sep === "") {
    const points = Array.from(s);
    if (limit < 0 || limit >= points.length) return points;
    return [...points.slice(0, limit - 1), points.slice(limit - 1).join("")];
  }
  // The engine's own split is linear and agrees when every part is wanted and the separator is not empty.
  if (limit < 0) return s.split(sep);
  const parts: string[] = [];
  let from = 0;
  while (parts.length < limit - 1) {
    const at = s.indexOf(sep, from);
    if (at < 0) break;
    parts.push(s.slice(from, at));
    from = at + sep.length;
  }
  parts.push(s.slice(from));
  return parts;
}

/** `list.join([sep])`: every element must be a string. */
export function joinLinear(list: Iterable<unknown>, sep = ""): string {
  const parts: string[] = [];
  for (const item of list) {
    if (typeof item !== "string") throw new Error("join: list contains a value that is not a string");
    parts.push(item);
  }
  return parts.join(sep);
}

/** Code points in `s` (CEL's size of a string), without copying it. */
export function codePointCount(s: string): number {
  let count = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

export function lowerAsciiLinear(s: string): string {
  return s.replace(/[A-Z]+/g, (run) => run.toLowerCase());
}

export function upperAsciiLinear(s: string): string {
  return s.replace(/[a-z]+/g, (run) => run.toUpperCase());
}

const { STRING, INT } = CelScalar;
const LIST = listType(CelScalar.DYN);

/** Registered after the strings extension; each has the id of the function it replaces, so it takes its place. */
export const LINEAR_STRING_FUNCTIONS = [
  celMethod("replace", STRING, [STRING, STRING], STRING, function (this: string, old: string, replacement: string) {
    return replaceLinear(this, old, replacement);
  }),
  celMethod("replace", STRING, [STRING, STRING, INT], STRING, function (this: string, old: string, replacement: string, limit: bigint) {
    return replaceLinear(this, old, replacement, clampLimit(limit));
  }),
  celMethod("split", STRING, [STRING], LIST, function (this: string, sep: string) {
    return celList(splitLinear(this, sep));
  }),
  celMethod("split", STRING, [STRING, INT], LIST, function (this: string, sep: string, limit: bigint) {
    return celList(splitLinear(this, sep, clampLimit(limit)));
  }),
  celMethod("join", LIST, [], STRING, function (this: CelList) {
    return joinLinear(this);
  }),
  celMethod("join", LIST, [STRING], STRING, function (this: CelList, sep: string) {
    return joinLinear(this, sep);
  }),
  celMethod("lowerAscii", STRING, [], STRING, function (this: string) {
    return lowerAsciiLinear(this);
  }),
  celMethod("upperAscii", STRING, [], STRING, function (this: string) {
    return upperAsciiLinear(this);
  }),
  celFunc("size", [STRING], INT, (s: string) => BigInt(codePointCount(s))),
  celMethod("size", STRING, [], INT, function (this: string) {
    return BigInt(codePointCount(this));
  }),
];

/** Limits beyond any string's length mean "all"; keeps a huge int from becoming an imprecise float. */
function clampLimit(limit: bigint): number {
  if (limit < 0n) return -1;
  return limit > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(limit);
}
