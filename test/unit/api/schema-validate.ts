// Offline stand-in for the apiserver's CRD validation: structural checks, then the CEL rules, with its field paths.
//
// The apiserver stays the authority (integration tests apply the same files); this gives unit tests the same
// verdicts without a cluster. CEL runs with @bufbuild/cel, so rules stay within standard CEL (no Kubernetes
// extension libraries), and like the apiserver it runs rules only on an object that passed the structural checks.
import { isCelError, run, type CelInput } from "@bufbuild/cel";
import type { JsonSchema } from "./crd-files.ts";

export interface Violation {
  /** Field path as the apiserver writes it, e.g. spec.claims[0].name. */
  readonly path: string;
  readonly message: string;
}

/** RFC 3339 date-time, as OpenAPI format date-time requires. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function child(path: string, name: string): string {
  return path === "" ? name : `${path}.${name}`;
}

/** Structural checks (types, required, unknown fields, bounds, enums, patterns, formats, list uniqueness). */
function structural(value: unknown, schema: JsonSchema, path: string, out: Violation[]): void {
  const where = path === "" ? "(root)" : path;
  switch (schema.type) {
    case "string": {
      if (typeof value !== "string") return void out.push({ path: where, message: `must be a string` });
      // Kubernetes counts string length in code points (runes), not UTF-16 units.
      const length = Array.from(value).length;
      if (schema.minLength !== undefined && length < schema.minLength) out.push({ path: where, message: `shorter than ${schema.minLength}` });
      if (schema.maxLength !== undefined && length > schema.maxLength) out.push({ path: where, message: `longer than ${schema.maxLength}` });
      if (schema.enum !== undefined && !schema.enum.includes(value)) out.push({ path: where, message: `not one of ${schema.enum.join(", ")}` });
      if (schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(value)) out.push({ path: where, message: `should match '${schema.pattern}'` });
      if (schema.format === "date-time" && !DATE_TIME.test(value)) {
        // Worded as the apiserver words it, so a fixture's expected message holds offline and on a real cluster.
        out.push({ path: where, message: `${where} in body must be of type date-time: ${JSON.stringify(value)}` });
      }
      return;
    }
    case "integer":
    case "number": {
      if (typeof value !== "number" || (schema.type === "integer" && !Number.isInteger(value))) {
        return void out.push({ path: where, message: `must be of type ${schema.type}` });
      }
      if (schema.minimum !== undefined && value < schema.minimum) out.push({ path: where, message: `less than ${schema.minimum}` });
      if (schema.maximum !== undefined && value > schema.maximum) out.push({ path: where, message: `greater than ${schema.maximum}` });
      return;
    }
    case "boolean":
      if (typeof value !== "boolean") out.push({ path: where, message: `must be a boolean` });
      return;
    case "array": {
      if (!Array.isArray(value)) return void out.push({ path: where, message: `must be a list` });
      if (schema.minItems !== undefined && value.length < schema.minItems) out.push({ path: where, message: `fewer than ${schema.minItems} items` });
      if (schema.maxItems !== undefined && value.length > schema.maxItems) out.push({ path: where, message: `more than ${schema.maxItems} items` });
      const keys = schema["x-kubernetes-list-map-keys"];
      const seen = new Set<string>();
      value.forEach((item: unknown, index) => {
        const identity =
          schema["x-kubernetes-list-type"] === "set"
            ? JSON.stringify(item)
            : schema["x-kubernetes-list-type"] === "map" && keys !== undefined && isRecord(item)
              ? JSON.stringify(keys.map((k) => item[k]))
              : undefined;
        if (identity !== undefined) {
          if (seen.has(identity)) out.push({ path: `${where}[${index}]`, message: `duplicate value` });
          seen.add(identity);
        }
        if (schema.items !== undefined) structural(item, schema.items, `${path}[${index}]`, out);
      });
      return;
    }
    case "object": {
      if (!isRecord(value)) return void out.push({ path: where, message: `must be an object` });
      if (schema.maxProperties !== undefined && Object.keys(value).length > schema.maxProperties) {
        out.push({ path: where, message: `more than ${schema.maxProperties} properties` });
      }
      for (const name of schema.required ?? []) {
        if (!(name in value)) out.push({ path: child(path, name), message: `Required value` });
      }
      for (const [name, item] of Object.entries(value)) {
        const property = schema.properties?.[name] ?? schema.additionalProperties;
        if (property === undefined) {
          // metadata is the one object whose fields Kubernetes owns; the CRD schema may not describe them.
          if (schema.properties !== undefined || schema.additionalProperties !== undefined) {
            out.push({ path: child(path, name), message: `unknown field` });
          }
          continue;
        }
        structural(item, property, child(path, name), out);
      }
      return;
    }
    default:
      out.push({ path: where, message: `schema without type` });
  }
}

/** The value as CEL sees it: objects and maps as CEL maps, integers as CEL int. */
function toCel(value: unknown, schema: JsonSchema): CelInput {
  if (Array.isArray(value)) return value.map((item: unknown) => (schema.items === undefined ? toCel(item, {}) : toCel(item, schema.items)));
  if (isRecord(value)) {
    return new Map(
      Object.entries(value).map(([k, v]) => {
        const property = schema.properties?.[k] ?? schema.additionalProperties ?? {};
        return [k, toCel(v, property)];
      }),
    );
  }
  if (typeof value === "number" && schema.type === "integer") return BigInt(value);
  // Strings, booleans and doubles are CEL values as they are.
  return value as CelInput;
}

function evaluateRules(value: unknown, schema: JsonSchema, path: string, out: Violation[]): void {
  const where = path === "" ? "(root)" : path;
  for (const rule of schema["x-kubernetes-validations"] ?? []) {
    const self = toCel(value, schema);
    const result = run(rule.rule, { self });
    if (isCelError(result)) {
      out.push({ path: where, message: `rule ${rule.rule} failed to evaluate: ${result.message}` });
    } else if (result !== true) {
      const custom = rule.messageExpression === undefined ? undefined : run(rule.messageExpression, { self });
      out.push({ path: where, message: typeof custom === "string" ? custom : (rule.message ?? `failed rule: ${rule.rule}`) });
    }
  }
  if (Array.isArray(value) && schema.items !== undefined) {
    const items = schema.items;
    value.forEach((item: unknown, index) => {
      evaluateRules(item, items, `${path}[${index}]`, out);
    });
  } else if (isRecord(value)) {
    for (const [name, item] of Object.entries(value)) {
      const property = schema.properties?.[name] ?? schema.additionalProperties;
      if (property !== undefined) evaluateRules(item, property, child(path, name), out);
    }
  }
}

/** Every violation the CRD schema finds in `value`; CEL rules run only when the structure is valid. */
export function validateAgainstSchema(value: unknown, schema: JsonSchema): Violation[] {
  const violations: Violation[] = [];
  structural(value, schema, "", violations);
  if (violations.length === 0) evaluateRules(value, schema, "", violations);
  return violations;
}
