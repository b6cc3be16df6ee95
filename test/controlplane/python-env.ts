// A cached Python virtualenv for test tools written in Python, built once per machine from a pinned requirements file.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { access, mkdir, mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface PythonEnvOptions {
  /** Tessera's cache directory (see config.ts); environments live in `<cacheDir>/python/<digest>`. */
  readonly cacheDir: string;
  readonly requirementsFile: string;
  readonly python?: string;
  readonly log?: (line: string) => void;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * The python executable of a virtualenv holding exactly the pinned requirements. The directory is keyed by the
 * interpreter's version and the requirements' content, and built in a private directory renamed into place, so an
 * interrupted install never leaves a half-filled environment behind and a changed pin builds a new one.
 */
export async function ensurePythonEnv(options: PythonEnvOptions): Promise<string> {
  const python = options.python ?? "python3";
  const { stdout: version } = await run(python, ["--version"]);
  const requirements = await readFile(options.requirementsFile, "utf8");
  const digest = createHash("sha256").update(version.trim()).update("\0").update(requirements).digest("hex").slice(0, 16);
  const root = join(options.cacheDir, "python");
  const target = join(root, digest);
  const executable = join(target, "bin", "python");
  if (await exists(executable)) return executable;

  await mkdir(root, { recursive: true });
  const scratch = await mkdtemp(join(root, ".building-"));
  try {
    options.log?.(`installing ${options.requirementsFile} into a Python virtualenv (once per machine)`);
    await run(python, ["-m", "venv", scratch]);
    await run(join(scratch, "bin", "python"), ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input", "-r", options.requirementsFile], {
      maxBuffer: 16 * 1024 * 1024,
    });
    // A venv finds its packages relative to its interpreter, so the renamed directory works as it is.
    await rename(scratch, target).catch(async (error: unknown) => {
      // Another run finished first: use its environment.
      if (!(await exists(executable))) throw error;
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return executable;
}
