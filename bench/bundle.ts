// Bundles an entry point into one ESM file with esbuild, to measure what shipping a bundle (no tsx, no module graph) buys.
import { join } from "node:path";
import { build } from "esbuild";
import { REPO_ROOT } from "../test/integration/support/crds.ts";

/** Writes `<outDir>/<name>.mjs` from `entry` (relative to the repository root) and returns its path. */
export async function bundle(entry: string, outDir: string, name: string): Promise<string> {
  const outfile = join(outDir, `${name}.mjs`);
  await build({
    entryPoints: [join(REPO_ROOT, entry)],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    minify: false,
    logLevel: "silent",
    // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
    banner: { js: 'import { createRequire as __tesseraCreateRequire } from "node:module"; const require = __tesseraCreateRequire(import.meta.url);' },
  });
  return outfile;
}
