// A Tessera program (controller or sidecar) run by the demo as a child process: output kept by line, stopped politely, never orphaned.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";

export interface ProgramLine {
  readonly stream: "stdout" | "stderr";
  readonly text: string;
}

export interface Program {
  readonly name: string;
  /** Every line written so far. */
  lines(): readonly ProgramLine[];
  /** How it ended, or undefined while it runs. */
  exitDescription(): string | undefined;
  /** The last lines of stderr (or stdout), for an error message. */
  tail(count?: number): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has ended. */
  stop(graceMs?: number): Promise<void>;
}

export interface ProgramOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** The complete environment: nothing of the demo's own leaks in unless passed. */
  readonly env: NodeJS.ProcessEnv;
}

/** The command that runs a TypeScript entry file of the repository with `node --import tsx`. */
export function tsxCommand(repoRoot: string, entry: string): Pick<ProgramOptions, "command" | "args" | "cwd"> {
  return { command: process.execPath, args: ["--import", "tsx", join(repoRoot, entry)], cwd: repoRoot };
}

export function startProgram(options: ProgramOptions): Program {
  // Its own process group: a Ctrl-C in the terminal reaches only the demo, which then stops the children in order.
  const child = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const lines: ProgramLine[] = [];
  for (const stream of ["stdout", "stderr"] as const) {
    const source = child[stream];
    createInterface({ input: source }).on("line", (text) => lines.push({ stream, text }));
  }
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.on("exit", (code, signal) => {
      exit = signal === null ? `exit code ${String(code)}` : `signal ${signal}`;
      resolve();
    });
    child.on("error", (err) => {
      exit = `failed to start: ${err.message}`;
      resolve();
    });
  });
  // Last resort when the demo ends without stopping it.
  const onExit = (): void => {
    if (exit === undefined) child.kill("SIGKILL");
  };
  process.on("exit", onExit);
  return {
    name: options.name,
    lines: () => lines,
    exitDescription: () => exit,
    tail(count = 8) {
      const errors = lines.filter((l) => l.stream === "stderr");
      return (errors.length > 0 ? errors : lines).slice(-count).map((l) => l.text).join("\n");
    },
    async stop(graceMs = 10_000) {
      if (exit === undefined) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      process.off("exit", onExit);
    },
  };
}
