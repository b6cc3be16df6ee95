// One supervised child process of the control plane: output captured to a log file, stopped politely then firmly.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { ControlPlaneError } from "./errors.ts";

export interface ManagedProcessOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly logPath: string;
  readonly cwd: string;
}

export class ManagedProcess {
  readonly name: string;
  readonly logPath: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #exitDescription: string | undefined;

  constructor(options: ManagedProcessOptions) {
    this.name = options.name;
    this.logPath = options.logPath;
    const fd = openSync(options.logPath, "a");
    try {
      this.#child = spawn(options.command, options.args, { cwd: options.cwd, stdio: ["ignore", fd, fd] });
    } finally {
      // The child holds its own copy of the descriptor.
      closeSync(fd);
    }
    this.#exited = new Promise((resolveExit) => {
      this.#child.on("exit", (code, signal) => {
        this.#exitDescription = signal === null ? `exit code ${String(code)}` : `signal ${signal}`;
        resolveExit();
      });
      this.#child.on("error", (err) => {
        this.#exitDescription = `failed to start: ${err.message}`;
        resolveExit();
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** How the process ended, or undefined while it runs. */
  get exitDescription(): string | undefined {
    return this.#exitDescription;
  }

  /** Resolves when the process has ended, for any reason. */
  get exited(): Promise<void> {
    return this.#exited;
  }

  /** SIGSTOP: the process keeps its sockets (the kernel still completes handshakes) but answers nothing. */
  pause(): void {
    this.assertRunning();
    this.#child.kill("SIGSTOP");
  }

  /** SIGCONT after pause(). */
  resume(): void {
    this.assertRunning();
    this.#child.kill("SIGCONT");
  }

  /** SIGTERM, then SIGKILL if it has not ended within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.#exitDescription !== undefined) return;
    // A paused process would only act on SIGTERM once continued.
    this.#child.kill("SIGCONT");
    this.#child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolveTimeout) => {
      timer = setTimeout(() => {
        resolveTimeout("timeout");
      }, graceMs);
    });
    const outcome = await Promise.race([this.#exited.then(() => "exited" as const), timedOut]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      this.#child.kill("SIGKILL");
      await this.#exited;
    }
  }

  /** Synchronous last resort for a `process.on("exit")` handler, where nothing can be awaited. */
  killNow(): void {
    if (this.#exitDescription === undefined) this.#child.kill("SIGKILL");
  }

  /** Throws PROCESS_EXITED if the process has already ended. */
  assertRunning(): void {
    if (this.#exitDescription !== undefined) {
      throw new ControlPlaneError("PROCESS_EXITED", `${this.name} exited (${this.#exitDescription}); log: ${this.logPath}`);
    }
  }

  /** The last `lines` lines of the log, for error messages. */
  async logTail(lines = 40): Promise<string> {
    try {
      const text = await readFile(this.logPath, "utf8");
      return text.split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }
}
