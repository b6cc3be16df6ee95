// Reads every YAML document under a directory (or a single file), sorted by path, so reports read the same everywhere.

import { readFile, readdir, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";
import type { LoadProblem, LoadedDocument } from "./documents.ts";

export interface LoadedFiles {
  readonly documents: readonly LoadedDocument[];
  readonly problems: readonly LoadProblem[];
}

/**
 * Every document of every .yaml/.yml file under `path` (or of `path` itself when it is a file). A document that does
 * not parse is a problem, not an exception; a path that cannot be read throws (the caller's usage error).
 */
export async function loadYaml(path: string, cwd: string = process.cwd()): Promise<LoadedFiles> {
  const files = (await stat(path)).isDirectory() ? await yamlFiles(path) : [path];
  const documents: LoadedDocument[] = [];
  const problems: LoadProblem[] = [];
  for (const file of files) {
    const shown = relative(cwd, file) || file;
    const text = await readFile(file, "utf8");
    parseAllDocuments(text).forEach((doc, index) => {
      const [first] = doc.errors;
      if (first !== undefined) {
        problems.push({ file: shown, message: `document ${index}: ${first.message}` });
        return;
      }
      const value: unknown = doc.toJS();
      // An empty document (a trailing "---") holds nothing to check.
      if (value !== null && value !== undefined) documents.push({ file: shown, index, value });
    });
  }
  return { documents, problems };
}

async function yamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}
