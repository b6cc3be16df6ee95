// Builds the control plane binaries (and the tools the tests use with them: helm, promtool) from Go modules into a version-keyed cache, only the ones that are missing.
import { spawn } from "node:child_process";
import { access, constants, mkdir, mkdtemp, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ControlPlaneError } from "./errors.ts";
import { BINARIES, binaryFileName, CONTROL_PLANE_BINARIES, type BinaryName, type BinarySpec } from "./versions.ts";

/** Directory of this file: the helper Go modules live beside it. */
const CONTROL_PLANE_DIR = dirname(fileURLToPath(import.meta.url));

export type BinaryPaths = Readonly<Record<BinaryName, string>>;

export interface BuildOptions {
  readonly cacheDir: string;
  /** Which binaries to make sure of; the control plane's (CONTROL_PLANE_BINARIES) by default. */
  readonly names?: readonly BinaryName[];
  /** Progress lines for a person; builds take minutes. */
  readonly log?: (line: string) => void;
  /** Environment for `go` (GOPATH, GOCACHE, GOPROXY ...), passed in by the entry point. */
  readonly env: NodeJS.ProcessEnv;
}

export function binaryPath(cacheDir: string, spec: BinarySpec): string {
  return join(cacheDir, "bin", binaryFileName(spec));
}

/** Where every binary is (or will be) in the cache; only the ones ensureBinaries was asked for are built. */
export function binaryPaths(cacheDir: string): BinaryPaths {
  const at = (name: BinaryName): string => binaryPath(cacheDir, BINARIES[name]);
  return {
    "kube-apiserver": at("kube-apiserver"),
    etcd: at("etcd"),
    helm: at("helm"),
    kubelet: at("kubelet"),
    "kube-controller-manager": at("kube-controller-manager"),
    "kube-scheduler": at("kube-scheduler"),
    "kube-proxy": at("kube-proxy"),
    coredns: at("coredns"),
    pause: at("pause"),
    kubectl: at("kubectl"),
    promtool: at("promtool"),
  };
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The names among `names` whose binary is not in the cache yet. */
export async function missingBinaries(
  cacheDir: string,
  names: readonly BinaryName[] = CONTROL_PLANE_BINARIES,
): Promise<BinaryName[]> {
  const missing: BinaryName[] = [];
  for (const name of names) {
    if (!(await isExecutable(binaryPath(cacheDir, BINARIES[name])))) missing.push(name);
  }
  return missing;
}

function runGo(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn("go", args, { cwd, env, stdio: ["ignore", "inherit", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-8000);
      process.stderr.write(chunk);
    });
    child.on("error", (err) => {
      reject(new ControlPlaneError("BUILD_FAILED", `cannot run go (is Go installed?): ${err.message}`, { cause: err }));
    });
    child.on("close", (code, signal) => {
      if (code === 0) resolvePromise();
      else {
        const how = signal === null ? `exit code ${String(code)}` : `signal ${signal}`;
        reject(new ControlPlaneError("BUILD_FAILED", `go ${args.join(" ")} failed (${how}):\n${stderr}`));
      }
    });
  });
}

/** Builds one binary into a private temp dir in the cache, then renames it into place: never a half-written file. */
async function buildOne(spec: BinarySpec, cacheDir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const binDir = join(cacheDir, "bin");
  await mkdir(binDir, { recursive: true });
  const work = await mkdtemp(join(cacheDir, `.build-${spec.name}-`));
  try {
    // GOTOOLCHAIN=local: build with the Go on this machine, never download another toolchain.
    const goEnv: NodeJS.ProcessEnv = { ...env, GOTOOLCHAIN: "local", CGO_ENABLED: "0" };
    const tagArgs = spec.tags !== undefined ? ["-tags", spec.tags] : [];
    if (spec.moduleDir !== undefined) {
      const out = join(work, spec.name);
      await runGo(
        ["build", "-trimpath", ...tagArgs, "-o", out, "-ldflags", spec.ldflags, spec.goPackage],
        join(CONTROL_PLANE_DIR, spec.moduleDir),
        goEnv,
      );
      await rename(out, binaryPath(cacheDir, spec));
    } else {
      // helm and promtool have no replace directives, so they install straight from their modules at a pinned version.
      await runGo(
        ["install", "-trimpath", ...tagArgs, "-ldflags", spec.ldflags, `${spec.goPackage}@${spec.version}`],
        work,
        { ...goEnv, GOBIN: work },
      );
      await rename(join(work, spec.name), binaryPath(cacheDir, spec));
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A build directory older than this was left by a killed build (a live one finishes within the hour). */
const STALE_BUILD_MS = 24 * 60 * 60 * 1000;

async function removeStaleBuildDirs(cacheDir: string, nowMs: number): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(cacheDir);
  } catch {
    return;
  }
  for (const entry of entries.filter((e) => e.startsWith(".build-"))) {
    const path = join(cacheDir, entry);
    const info = await stat(path).catch(() => undefined);
    if (info !== undefined && nowMs - info.mtimeMs > STALE_BUILD_MS) await rm(path, { recursive: true, force: true });
  }
}

/** Makes sure every requested binary is in the cache, building the missing ones one after another. */
export async function ensureBinaries(options: BuildOptions): Promise<BinaryPaths> {
  const log = options.log ?? (() => undefined);
  const env = options.env;
  const missing = await missingBinaries(options.cacheDir, options.names);
  if (missing.length > 0) await removeStaleBuildDirs(options.cacheDir, Date.now());
  for (const name of missing) {
    const spec = BINARIES[name];
    // Say why the wait: this happens once per machine and version, and kube-apiserver takes minutes.
    log(`building ${name} ${spec.version} from Go modules (once per machine and version)`);
    const started = Date.now();
    await buildOne(spec, options.cacheDir, env);
    log(`built ${name} ${spec.version} in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  return binaryPaths(options.cacheDir);
}
