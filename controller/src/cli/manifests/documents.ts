// YAML documents as the CLI loads them, with where each came from; shared by check, test and who-can.

/** One YAML document as loaded, with where it came from. */
export interface LoadedDocument {
  readonly file: string;
  readonly index: number;
  readonly value: unknown;
}

/** A file that could not be read or parsed, or a document that cannot be used. */
export interface LoadProblem {
  readonly file: string;
  readonly message: string;
}

/** How a document is named in reports: the file, and its index when it is not the first. */
export function locationOf(doc: Pick<LoadedDocument, "file" | "index">): string {
  return doc.index === 0 ? doc.file : `${doc.file}#${doc.index}`;
}

/** The document's kind, when it is an object with a string kind. */
export function kindOf(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || !("kind" in value)) return undefined;
  return typeof value.kind === "string" ? value.kind : undefined;
}
