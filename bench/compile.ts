// Compiles the controller with tsc as the image's build stage does, so the bench can run what ships (no tsx in memory).
import { spawn } from "node:child_process";
import { join, relative } from "node:path";
import { REPO_ROOT } from "../test/integration/support/crds.ts";
import { pinned } from "./child.ts";

/**
 * Runs `tsc -p tsconfig.build.json --noCheck` into `outDir`, which must lie inside the repository so the output finds
 * node_modules and package.json's "type": "module"; returns the controller entry relative to the repository root.
 * --noCheck emits exactly what the image's build stage emits, in half the time: type checking is CI's job, not the bench's.
 */
export async function compileController(outDir: string, cpu: number | undefined): Promise<string> {
  const tsc = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
  const [command, args] = pinned(cpu, process.execPath, [tsc, "-p", join(REPO_ROOT, "tsconfig.build.json"), "--noCheck", "--outDir", outDir]);
  const child = spawn(command, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (out += c.toString("utf8")));
  const code = await new Promise<number | null>((resolveExit) => child.on("exit", resolveExit));
  if (code !== 0) throw new Error(`tsc exited with ${String(code)}:\n${out}`);
  return relative(REPO_ROOT, join(outDir, "controller", "src", "main.js"));
}
