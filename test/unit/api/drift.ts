// Compares a TypeScript shape with a CRD schema shape and lists every disagreement, each with its field path.
import type { Shape } from "./shapes.ts";

export interface DriftOptions {
  /**
   * Root fields whose content Kubernetes owns (metadata) or whose TypeScript literal type the schema cannot state
   * (apiVersion, kind): only their primitive kind is compared, not their properties, enum or required-ness.
   */
  readonly looseRootFields?: ReadonlySet<string>;
}

const DEFAULT_LOOSE = new Set(["apiVersion", "kind", "metadata"]);

function describe(shape: Shape): string {
  return shape.kind === "unsupported" ? `unsupported (${shape.detail})` : shape.kind;
}

function at(path: string, name: string): string {
  return path === "" ? name : `${path}.${name}`;
}

/** Every place where the TypeScript type and the CRD schema disagree; empty when they agree. */
export function findDrift(typescript: Shape, crd: Shape, options: DriftOptions = {}): string[] {
  return compare(typescript, crd, "", options.looseRootFields ?? DEFAULT_LOOSE);
}

function compare(ts: Shape, crd: Shape, path: string, loose: ReadonlySet<string>): string[] {
  const where = path === "" ? "(root)" : path;
  if (ts.kind === "unsupported" || crd.kind === "unsupported" || ts.kind !== crd.kind) {
    return [`${where}: TypeScript type is ${describe(ts)} but the CRD schema says ${describe(crd)}`];
  }
  switch (ts.kind) {
    case "string": {
      if (crd.kind !== "string") return [];
      const a = (ts.enum ?? []).join("|");
      const b = (crd.enum ?? []).join("|");
      return a === b ? [] : [`${where}: TypeScript allows ${a === "" ? "any string" : a} but the CRD enum is ${b === "" ? "absent" : b}`];
    }
    case "array":
      return crd.kind === "array" ? compare(ts.items, crd.items, `${path}[]`, new Set()) : [];
    case "map":
      return crd.kind === "map" ? compare(ts.values, crd.values, `${path}{}`, new Set()) : [];
    case "object": {
      if (crd.kind !== "object") return [];
      const drift: string[] = [];
      const names = [...new Set([...ts.properties.keys(), ...crd.properties.keys()])].sort();
      for (const name of names) {
        const fieldPath = at(path, name);
        const a = ts.properties.get(name);
        const b = crd.properties.get(name);
        if (a === undefined) {
          drift.push(`${fieldPath}: in the CRD schema but not in the TypeScript type`);
          continue;
        }
        if (b === undefined) {
          drift.push(`${fieldPath}: in the TypeScript type but not in the CRD schema`);
          continue;
        }
        if (loose.has(name)) {
          if (a.shape.kind !== b.shape.kind) drift.push(`${fieldPath}: TypeScript type is ${describe(a.shape)} but the CRD schema says ${describe(b.shape)}`);
          continue;
        }
        if (a.required !== b.required) {
          drift.push(
            a.required
              ? `${fieldPath}: required in TypeScript but optional in the CRD schema (not in required)`
              : `${fieldPath}: optional in TypeScript but required in the CRD schema`,
          );
        }
        drift.push(...compare(a.shape, b.shape, fieldPath, new Set()));
      }
      return drift;
    }
    case "number":
    case "boolean":
      return [];
  }
}
