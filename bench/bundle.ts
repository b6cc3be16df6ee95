// Bundles a bench server with the same esbuild settings as the sidecar image's bundle, so both start the same way.
import { join } from "node:path";
import { bundleEntry } from "../sidecar/bundle.ts";

/** Writes `<outDir>/<name>.mjs` from `entry` (relative to the repository root) and returns its path. */
export async function bundle(entry: string, outDir: string, name: string): Promise<string> {
  const outfile = join(outDir, `${name}.mjs`);
  await bundleEntry(entry, outfile);
  return outfile;
}
