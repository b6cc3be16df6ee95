// RFC 6902 JSON patch: a pure diff between two JSON documents, and a pure apply used to check the diff.
import { AdmissionError } from "./errors.ts";

/** A JSON value as found in a decoded admission request. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

export type PatchOperation =
  | { readonly op: "add"; readonly path: string; readonly value: Json }
  | { readonly op: "replace"; readonly path: string; readonly value: Json }
  | { readonly op: "remove"; readonly path: string };

const NEEDS_ESCAPE = /[~/]/;

/** Escapes one reference token of a JSON pointer (RFC 6901 section 3: `~` first, then `/`). */
export function escapePointerToken(token: string): string {
  // Almost every key of a pod needs no escaping: no copies for those.
  if (!NEEDS_ESCAPE.test(token)) return token;
  return token.replaceAll("~", "~0").replaceAll("/", "~1");
}

function unescapePointerToken(token: string): string {
  return token.replaceAll("~1", "/").replaceAll("~0", "~");
}

function isObject(value: unknown): value is { readonly [key: string]: Json } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep equality of two JSON values; keys whose value is undefined count as absent. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...definedKeys(a), ...definedKeys(b)]);
    for (const key of keys) {
      if (!jsonEqual(a[key], b[key])) return false;
    }
    return true;
  }
  return false;
}

function definedKeys(object: { readonly [key: string]: unknown }): string[] {
  return Object.keys(object).filter((key) => object[key] !== undefined);
}

/**
 * Operations that turn `from` into `to`. Arrays get index-precise inserts when `to` only inserts a run of
 * items into `from` (the common case of appending a container or prepending a native sidecar), element-wise
 * diffs when their lengths agree, and a whole replacement otherwise.
 */
export function diff(from: Json, to: Json): PatchOperation[] {
  const ops: PatchOperation[] = [];
  diffInto(from, to, "", ops);
  return ops;
}

// Objects and arrays are not compared whole before descending: equal parts yield no operations on the way down
// anyway, and comparing first would walk every unchanged subtree once per level above it.
function diffInto(from: Json, to: Json, path: string, ops: PatchOperation[]): void {
  if (from === to) return;
  if (isObject(from) && isObject(to)) {
    for (const key of definedKeys(from)) {
      if (to[key] === undefined) ops.push({ op: "remove", path: `${path}/${escapePointerToken(key)}` });
    }
    for (const key of definedKeys(to)) {
      const next = to[key] as Json;
      const child = `${path}/${escapePointerToken(key)}`;
      const previous = from[key];
      if (previous === undefined) ops.push({ op: "add", path: child, value: next });
      else diffInto(previous, next, child, ops);
    }
    return;
  }
  if (Array.isArray(from) && Array.isArray(to)) {
    diffArray(from as readonly Json[], to as readonly Json[], path, ops);
    return;
  }
  if (!jsonEqual(from, to)) ops.push({ op: "replace", path, value: to });
}

function diffArray(from: readonly Json[], to: readonly Json[], path: string, ops: PatchOperation[]): void {
  let prefix = 0;
  while (prefix < from.length && prefix < to.length && jsonEqual(from[prefix], to[prefix])) prefix++;
  let suffix = 0;
  while (
    suffix < from.length - prefix &&
    suffix < to.length - prefix &&
    jsonEqual(from[from.length - 1 - suffix], to[to.length - 1 - suffix])
  ) {
    suffix++;
  }
  if (from.length - prefix - suffix === 0 && to.length > from.length) {
    for (let i = prefix; i < to.length - suffix; i++) ops.push({ op: "add", path: `${path}/${i}`, value: to[i] as Json });
    return;
  }
  if (from.length === to.length) {
    // Items in the common prefix and suffix are equal: only those between can yield operations.
    for (let i = prefix; i < from.length - suffix; i++) diffInto(from[i] as Json, to[i] as Json, `${path}/${i}`, ops);
    return;
  }
  ops.push({ op: "replace", path, value: to });
}

/** Applies `ops` to a copy of `document`; throws AdmissionError InvalidPatch when an operation does not fit. */
export function applyPatch(document: Json, ops: readonly PatchOperation[]): Json {
  let result: Json = structuredClone(document);
  for (const op of ops) result = applyOne(result, op);
  return result;
}

function applyOne(document: Json, op: PatchOperation): Json {
  if (op.path === "") {
    if (op.op === "remove") throw new AdmissionError("InvalidPatch", "cannot remove the document root");
    return structuredClone(op.value);
  }
  if (!op.path.startsWith("/")) throw new AdmissionError("InvalidPatch", `path ${op.path} does not start with /`);
  const tokens = op.path.slice(1).split("/").map(unescapePointerToken);
  const last = tokens.pop() as string;
  let parent: unknown = document;
  for (const token of tokens) {
    parent = Array.isArray(parent) ? (parent as unknown[])[Number(token)] : isObject(parent) ? parent[token] : undefined;
    if (parent === undefined) throw new AdmissionError("InvalidPatch", `path ${op.path} does not exist`);
  }
  if (Array.isArray(parent)) {
    const items = parent as Json[];
    const index = last === "-" ? items.length : Number(last);
    const bound = op.op === "add" ? items.length : items.length - 1;
    if (!Number.isInteger(index) || index < 0 || index > bound) {
      throw new AdmissionError("InvalidPatch", `index ${last} is out of range at ${op.path}`);
    }
    if (op.op === "add") items.splice(index, 0, structuredClone(op.value));
    else if (op.op === "replace") items[index] = structuredClone(op.value);
    else items.splice(index, 1);
    return document;
  }
  if (!isObject(parent)) throw new AdmissionError("InvalidPatch", `parent of ${op.path} is not a container`);
  const record = parent as Record<string, Json>;
  if (op.op !== "add" && !(last in record)) throw new AdmissionError("InvalidPatch", `path ${op.path} does not exist`);
  if (op.op === "remove") {
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- JSON patch removes arbitrary keys by design
    delete record[last];
  } else {
    record[last] = structuredClone(op.value);
  }
  return document;
}
