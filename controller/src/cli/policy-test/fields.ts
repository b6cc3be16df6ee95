// Strict reading of an untyped YAML value: every problem is collected with its field path, unknown fields included.

/** Collects errors while reading; each read returns undefined when its value is absent or wrong. */
export class FieldReader {
  readonly errors: string[] = [];

  fail(path: string, message: string): void {
    this.errors.push(`${path}: ${message}`);
  }

  /** An object with only `allowed` keys, each of `required` present. */
  object(value: unknown, path: string, allowed: readonly string[], required: readonly string[] = []): Record<string, unknown> | undefined {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.fail(path, "must be an object");
      return undefined;
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!allowed.includes(key)) this.fail(`${path}.${key}`, `unknown field (expected one of ${allowed.join(", ")})`);
    }
    for (const key of required) if (record[key] === undefined) this.fail(`${path}.${key}`, "required");
    return record;
  }

  string(value: unknown, path: string): string | undefined {
    if (typeof value !== "string" || value === "") {
      this.fail(path, "must be a non-empty string");
      return undefined;
    }
    return value;
  }

  optionalString(value: unknown, path: string): string | undefined {
    return value === undefined ? undefined : this.string(value, path);
  }

  integer(value: unknown, path: string): number | undefined {
    if (typeof value !== "number" || !Number.isInteger(value)) {
      this.fail(path, "must be an integer");
      return undefined;
    }
    return value;
  }

  boolean(value: unknown, path: string): boolean | undefined {
    if (typeof value !== "boolean") {
      this.fail(path, "must be true or false");
      return undefined;
    }
    return value;
  }

  stringList(value: unknown, path: string): string[] | undefined {
    if (!Array.isArray(value)) {
      this.fail(path, "must be a list of strings");
      return undefined;
    }
    const out: string[] = [];
    value.forEach((item, i) => {
      const s = this.string(item, `${path}[${i}]`);
      if (s !== undefined) out.push(s);
    });
    return out;
  }

  list(value: unknown, path: string): unknown[] | undefined {
    if (!Array.isArray(value)) {
      this.fail(path, "must be a list");
      return undefined;
    }
    return value as unknown[];
  }

  /** A map of strings to strings (labels, annotations). */
  stringMap(value: unknown, path: string): Record<string, string> | undefined {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.fail(path, "must be a map of strings");
      return undefined;
    }
    const out: Record<string, string> = {};
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (typeof v !== "string") this.fail(`${path}.${key}`, "must be a string (quote numbers and booleans)");
      else out[key] = v;
    }
    return out;
  }
}
