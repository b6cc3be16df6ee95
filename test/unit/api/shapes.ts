// The type shapes the drift test compares: one from the TypeScript compiler, one from a CRD schema.
import ts from "typescript";
import type { JsonSchema } from "./crd-files.ts";

export interface PropertyShape {
  readonly required: boolean;
  readonly shape: Shape;
}

/** A type reduced to what both TypeScript and OpenAPI can say about it. */
export type Shape =
  | { readonly kind: "string"; readonly enum?: readonly string[] }
  | { readonly kind: "number" }
  | { readonly kind: "boolean" }
  | { readonly kind: "array"; readonly items: Shape }
  | { readonly kind: "map"; readonly values: Shape }
  | { readonly kind: "object"; readonly properties: ReadonlyMap<string, PropertyShape> }
  | { readonly kind: "unsupported"; readonly detail: string };

const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  exactOptionalPropertyTypes: true,
  target: ts.ScriptTarget.ES2023,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  noEmit: true,
  skipLibCheck: true,
  types: [],
};

/** A program over one file; `text` replaces the file's content on disk (for deliberately drifted copies). */
export function programFor(fileName: string, text?: string): ts.Program {
  const host = ts.createCompilerHost(COMPILER_OPTIONS);
  if (text !== undefined) {
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, languageVersion, onError, shouldCreate) =>
      name === fileName
        ? ts.createSourceFile(name, text, languageVersion)
        : getSourceFile(name, languageVersion, onError, shouldCreate);
  }
  return ts.createProgram({ rootNames: [fileName], options: COMPILER_OPTIONS, host });
}

/** The shape of an exported interface or type alias of `fileName`. */
export function shapeOfExport(program: ts.Program, fileName: string, exportName: string): Shape {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(fileName);
  if (source === undefined) throw new Error(`${fileName} is not part of the program`);
  const module = checker.getSymbolAtLocation(source);
  if (module === undefined) throw new Error(`${fileName} has no exports`);
  const symbol = checker.getExportsOfModule(module).find((s) => s.name === exportName);
  if (symbol === undefined) throw new Error(`${fileName} does not export ${exportName}`);
  return shapeOfType(checker, checker.getDeclaredTypeOfSymbol(symbol));
}

function isStringLiteralUnion(type: ts.Type): type is ts.UnionType {
  return type.isUnion() && type.types.every((t) => t.isStringLiteral());
}

function shapeOfType(checker: ts.TypeChecker, declared: ts.Type): Shape {
  const type = checker.getNonNullableType(declared);
  if (type.isStringLiteral()) return { kind: "string", enum: [type.value] };
  if (isStringLiteralUnion(type)) {
    return { kind: "string", enum: type.types.map((t) => (t as ts.StringLiteralType).value).sort() };
  }
  if (type.flags & ts.TypeFlags.String) return { kind: "string" };
  if (type.flags & ts.TypeFlags.NumberLike) return { kind: "number" };
  if (type.flags & ts.TypeFlags.BooleanLike) return { kind: "boolean" };
  if (checker.isArrayType(type)) {
    const [items] = checker.getTypeArguments(type as ts.TypeReference);
    if (items === undefined) return { kind: "unsupported", detail: "array without element type" };
    return { kind: "array", items: shapeOfType(checker, items) };
  }
  if (type.flags & ts.TypeFlags.Object) {
    const properties = checker.getPropertiesOfType(type);
    const index = checker.getIndexInfoOfType(type, ts.IndexKind.String);
    if (index !== undefined && properties.length === 0) return { kind: "map", values: shapeOfType(checker, index.type) };
    const shapes = new Map<string, PropertyShape>();
    for (const property of properties) {
      shapes.set(property.name, {
        required: (property.flags & ts.SymbolFlags.Optional) === 0,
        shape: shapeOfType(checker, checker.getTypeOfSymbol(property)),
      });
    }
    return { kind: "object", properties: shapes };
  }
  return { kind: "unsupported", detail: checker.typeToString(type) };
}

/** The shape of a structural schema node. */
export function shapeOfSchema(schema: JsonSchema): Shape {
  switch (schema.type) {
    case "string":
      return schema.enum === undefined ? { kind: "string" } : { kind: "string", enum: [...schema.enum].sort() };
    case "integer":
    case "number":
      return { kind: "number" };
    case "boolean":
      return { kind: "boolean" };
    case "array":
      if (schema.items === undefined) return { kind: "unsupported", detail: "array without items" };
      return { kind: "array", items: shapeOfSchema(schema.items) };
    case "object": {
      if (schema.additionalProperties !== undefined && schema.properties === undefined) {
        return { kind: "map", values: shapeOfSchema(schema.additionalProperties) };
      }
      const required = new Set(schema.required ?? []);
      const shapes = new Map<string, PropertyShape>();
      for (const [name, child] of Object.entries(schema.properties ?? {})) {
        shapes.set(name, { required: required.has(name), shape: shapeOfSchema(child) });
      }
      return { kind: "object", properties: shapes };
    }
    default:
      return { kind: "unsupported", detail: `type ${String(schema.type)}` };
  }
}
