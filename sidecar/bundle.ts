// Bundles the sidecar into one ESM file with esbuild, which is what the sidecar image runs (`npm run build` writes it).
import { readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The sidecar's entry point, relative to the repository root. */
export const SIDECAR_ENTRY = "sidecar/src/main.ts";
/** Where `npm run build` writes the bundle, relative to the repository root. */
export const SIDECAR_BUNDLE = "dist/sidecar/tessera-sidecar.mjs";
/** Written next to the bundle: the licences of the packages inside it, which the image carries no other copy of. */
export const LICENSES_FILE = "THIRD_PARTY_LICENSES.txt";

/**
 * Writes `entry` (relative to the repository root, or absolute) and everything it imports, dependencies included,
 * into the one ESM file `outfile`. One file instead of a module graph is why it starts in a fraction of the time
 * and holds less memory (docs/benchmarks.md, part 2), and it needs no node_modules beside it.
 */
export async function bundleEntry(entry: string, outfile: string): Promise<{ readonly packageDirs: readonly string[] }> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [resolve(ROOT, entry)],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    // The oldest Node the project supports (package.json engines); the image runs a newer one.
    target: "node20",
    // Readable stack traces; minifying saves little on a file this size, which is parsed once.
    minify: false,
    // The licence comments of bundled dependencies, kept together at the end of the file.
    legalComments: "eof",
    logLevel: "warning",
    metafile: true,
    // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
    banner: { js: 'import { createRequire as __tesseraCreateRequire } from "node:module"; const require = __tesseraCreateRequire(import.meta.url);' },
  });
  const dirs = new Set<string>();
  for (const input of Object.keys(result.metafile.inputs)) {
    const dir = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1];
    if (dir !== undefined) dirs.add(resolve(ROOT, dir));
  }
  return { packageDirs: [...dirs].sort() };
}

/** Each bundled package's name, version, declared licence and licence text, one after the other. */
async function licenseNotices(packageDirs: readonly string[]): Promise<string> {
  const parts: string[] = [];
  for (const dir of packageDirs) {
    const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as { name?: string; version?: string; license?: string };
    const file = (await readdir(dir)).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    const text = file === undefined ? "(no licence file in the package)" : (await readFile(join(dir, file), "utf8")).trim();
    parts.push(`${pkg.name ?? dir}@${pkg.version ?? "?"} (${pkg.license ?? "licence not declared"})\n\n${text}\n`);
  }
  return `Packages bundled into the Tessera sidecar:\n\n${parts.join("\n---\n\n")}`;
}

/** The sidecar bundle at `outfile` (the build's path by default), with LICENSES_FILE beside it. */
export async function bundleSidecar(outfile = join(ROOT, SIDECAR_BUNDLE)): Promise<string> {
  const { packageDirs } = await bundleEntry(SIDECAR_ENTRY, outfile);
  await writeFile(join(dirname(outfile), LICENSES_FILE), await licenseNotices(packageDirs));
  return outfile;
}

// `node --import tsx sidecar/bundle.ts [outfile]`: the last step of `npm run build`.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const target = process.argv[2];
  await bundleSidecar(target === undefined ? undefined : resolve(target));
}
