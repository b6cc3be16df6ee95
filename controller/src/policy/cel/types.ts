// The static types the policy expression checker reasons about: a small model of CEL's type system.

/** A CEL type as the checker sees it. `dyn` is the escape hatch: anything goes, checked at evaluation. */
export type CelT =
  | { readonly kind: "bool" | "int" | "uint" | "double" | "string" | "bytes" | "null" | "dyn" | "type" }
  | { readonly kind: "timestamp" | "duration" }
  | { readonly kind: "list"; readonly elem: CelT }
  | { readonly kind: "map"; readonly key: CelT; readonly value: CelT }
  | { readonly kind: "object"; readonly name: string; readonly fields: Readonly<Record<string, CelField>> };

/** A field of an object type; optional fields may be absent at evaluation (test them with `has()`). */
export interface CelField {
  readonly type: CelT;
  readonly optional: boolean;
}

export const T = {
  bool: { kind: "bool" },
  int: { kind: "int" },
  uint: { kind: "uint" },
  double: { kind: "double" },
  string: { kind: "string" },
  bytes: { kind: "bytes" },
  null: { kind: "null" },
  dyn: { kind: "dyn" },
  type: { kind: "type" },
  timestamp: { kind: "timestamp" },
  duration: { kind: "duration" },
} as const satisfies Record<string, CelT>;

/**
 * Element type of an empty literal (`[]`, `{}`): behaves as dyn, but joins to the other side, so that the
 * accumulator of `xs.map(x, f(x))` (which starts as `[]`) takes the type of `f(x)`.
 */
export const EMPTY: CelT = { kind: "dyn" };

export function list(elem: CelT): CelT {
  return { kind: "list", elem };
}

export function map(key: CelT, value: CelT): CelT {
  return { kind: "map", key, value };
}

export function object(name: string, fields: Readonly<Record<string, CelT | CelField>>): CelT {
  const out: Record<string, CelField> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = "optional" in value ? value : { type: value, optional: false };
  }
  return { kind: "object", name, fields: out };
}

export function optional(type: CelT): CelField {
  return { type, optional: true };
}

/** CEL's spelling of a type, as used in error messages (`map(string, string)`, `tessera.Pod`). */
export function typeName(t: CelT): string {
  switch (t.kind) {
    case "list":
      return `list(${typeName(t.elem)})`;
    case "map":
      return `map(${typeName(t.key)}, ${typeName(t.value)})`;
    case "object":
      return t.name;
    case "null":
      return "null_type";
    case "timestamp":
      return "google.protobuf.Timestamp";
    case "duration":
      return "google.protobuf.Duration";
    default:
      return t.kind;
  }
}

export function isDyn(t: CelT): boolean {
  return t.kind === "dyn";
}

/** Can a value of type `b` stand where `a` is expected (or the reverse)? dyn and null are lenient. */
export function compatible(a: CelT, b: CelT): boolean {
  if (a.kind === "dyn" || b.kind === "dyn") return true;
  if (a.kind === "null" || b.kind === "null") return true;
  if (a.kind === "list" && b.kind === "list") return compatible(a.elem, b.elem);
  if (a.kind === "map" && b.kind === "map") return compatible(a.key, b.key) && compatible(a.value, b.value);
  if (a.kind === "object" && b.kind === "object") return a.name === b.name;
  return a.kind === b.kind;
}

/** The most precise type both `a` and `b` fit in: equal types stay, anything else widens to dyn. */
export function join(a: CelT, b: CelT): CelT {
  if (a === EMPTY) return b;
  if (b === EMPTY) return a;
  if (a.kind === "dyn" || b.kind === "dyn") return T.dyn;
  if (a.kind === "null") return b;
  if (b.kind === "null") return a;
  if (a.kind === "list" && b.kind === "list") return list(join(a.elem, b.elem));
  if (a.kind === "map" && b.kind === "map") return map(join(a.key, b.key), join(a.value, b.value));
  if (a.kind === "object" && b.kind === "object") return a.name === b.name ? a : T.dyn;
  return a.kind === b.kind ? a : T.dyn;
}

export function isNumeric(t: CelT): boolean {
  return t.kind === "int" || t.kind === "uint" || t.kind === "double";
}
