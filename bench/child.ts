// A process the bench measures: Node run from TypeScript source, pinned to one CPU with taskset, output kept for errors.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { REPO_ROOT } from "../test/integration/support/crds.ts";

/** A ready-made command line (e.g. the controller launcher's), in place of script, loader and nodeArgs. */
export interface BenchCommand {
  readonly command: string;
  readonly args: readonly string[];
}

export interface BenchChildOptions {
  readonly name: string;
  /** Script path relative to the repository root (or absolute); ignored when `command` is given. */
  readonly script?: string;
  readonly command?: BenchCommand;
  /** tsx (TypeScript source, as the tests run it; the default) or plain (a bundled .mjs). */
  readonly loader?: "tsx" | "plain";
  readonly env: Readonly<Record<string, string>>;
  /** CPU to pin the process to; undefined leaves it unpinned. */
  readonly cpu: number | undefined;
  /** Node flags before the script (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /** Where stdout and stderr go (a file, as a container runtime would take them); kept in memory when unset. */
  readonly logFile?: string;
}

const KEEP_OUTPUT = 16_384;
/** USER_HZ: Linux reports process CPU time in 1/100 s on every common configuration. */
const CLOCK_TICKS = 100;

/**
 * Niceness of every measured process and of wrk: the machine is shared, and without a higher scheduling weight a
 * server that sleeps between requests loses its CPU to neighbours' compilers. Raising priority needs root; without
 * it nice prints a warning and runs the command at normal priority.
 */
export const BENCH_NICENESS = -10;

/** The command line running `command` pinned to `cpu` at BENCH_NICENESS (unchanged when cpu is undefined). */
export function pinned(cpu: number | undefined, command: string, args: readonly string[]): [string, string[]] {
  if (cpu === undefined) return [command, [...args]];
  return ["nice", ["-n", String(BENCH_NICENESS), "taskset", "-c", String(cpu), command, ...args]];
}

export class BenchChild {
  readonly name: string;
  readonly startedAt: number;
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  #output = "";
  readonly #logFile: string | undefined;
  #exitCode: number | null | undefined;

  constructor(options: BenchChildOptions) {
    this.name = options.name;
    const run = options.command ?? {
      command: process.execPath,
      args: [...(options.nodeArgs ?? []), ...(options.loader === "plain" ? [] : ["--import", "tsx"]), options.script ?? ""],
    };
    const [command, args] = pinned(options.cpu, run.command, run.args);
    this.#logFile = options.logFile;
    const fd = options.logFile === undefined ? undefined : openSync(options.logFile, "a");
    const env = { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", ...options.env };
    this.startedAt = performance.now();
    // nice and taskset exec what follows, so the pid is node's own (RSS is read from /proc/<pid>).
    this.#child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: fd === undefined ? ["ignore", "pipe", "pipe"] : ["ignore", fd, fd] });
    if (fd !== undefined) closeSync(fd);
    const keep = (chunk: Buffer): void => {
      this.#output = (this.#output + chunk.toString("utf8")).slice(-KEEP_OUTPUT);
    };
    this.#child.stdout?.on("data", keep);
    this.#child.stderr?.on("data", keep);
    this.#exited = new Promise((resolveExit) => {
      this.#child.on("exit", (code) => {
        this.#exitCode = code;
        resolveExit(code);
      });
      this.#child.on("error", (err) => {
        this.#output += `\nfailed to start: ${err.message}`;
        this.#exitCode = null;
        resolveExit(null);
      });
    });
  }

  get pid(): number {
    const pid = this.#child.pid;
    if (pid === undefined) throw new Error(`${this.name} has no pid: ${this.#output}`);
    return pid;
  }

  get running(): boolean {
    return this.#exitCode === undefined;
  }

  output(): string {
    if (this.#logFile !== undefined) {
      try {
        return `${this.#output}${readFileSync(this.#logFile, "utf8").slice(-KEEP_OUTPUT)}`;
      } catch {
        return `${this.#output}(no log at ${this.#logFile})`;
      }
    }
    return this.#output;
  }

  /** Resident set size in bytes, from /proc. */
  async rssBytes(): Promise<number> {
    const status = await readFile(`/proc/${this.pid}/status`, "utf8");
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    if (kb === undefined) throw new Error(`no VmRSS for ${this.name}`);
    return Number(kb) * 1024;
  }

  /** Peak resident set size in bytes since the process started (VmHWM, from /proc). */
  async peakRssBytes(): Promise<number> {
    const status = await readFile(`/proc/${this.pid}/status`, "utf8");
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
    if (kb === undefined) throw new Error(`no VmHWM for ${this.name}`);
    return Number(kb) * 1024;
  }

  /** Waits for the process to end by itself (a measurement that prints its result and exits). */
  async exited(timeoutMs: number): Promise<number | null> {
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), timeoutMs);
    const code = await this.#exited;
    clearTimeout(timer);
    return code;
  }

  /** CPU seconds (user + system) the process has used, from /proc/<pid>/stat. */
  async cpuSeconds(): Promise<number> {
    const stat = await readFile(`/proc/${this.pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start after the last ')'; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  }

  /** SIGTERM (a clean exit writes --cpu-prof profiles), then SIGKILL after graceMs. */
  async stop(graceMs = 10_000): Promise<number | null> {
    if (!this.running) return this.#exitCode ?? null;
    this.#child.kill("SIGTERM");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), graceMs);
    const code = await this.#exited;
    clearTimeout(timer);
    return code;
  }
}

/** Polls `probe` until it is true; fails with the child's output if it exits first or time runs out. */
export async function waitUntil(child: BenchChild, what: string, probe: () => Promise<boolean>, timeoutMs = 60_000, intervalMs = 20): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (!child.running) throw new Error(`${child.name} exited before ${what}:\n${child.output()}`);
    if (await probe().catch(() => false)) return performance.now();
    if (performance.now() > deadline) throw new Error(`${child.name}: timed out waiting for ${what}:\n${child.output()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Waits until the process uses under `share` of a CPU over a window: startup work (informer sync, status writes) done. */
export async function waitSettled(child: BenchChild, share = 0.1, windowMs = 1000, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let before = await child.cpuSeconds();
  for (;;) {
    await new Promise((r) => setTimeout(r, windowMs));
    const now = await child.cpuSeconds();
    if ((now - before) * 1000 < share * windowMs || performance.now() > deadline) return;
    before = now;
  }
}
