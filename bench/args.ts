// Command line of `npm run bench`: the quick profile (under 5 minutes on 2 cores) or --full; pure, unit-tested.
import type { Durations } from "./context.ts";

export interface BenchArgs {
  readonly profile: "quick" | "full";
  /** Parts to run (1..7); all that the profile includes when absent. */
  readonly parts: readonly number[] | undefined;
  /** Write docs/benchmarks.md and docs/benchmarks.json (off with --no-write). */
  readonly write: boolean;
  /** Where to copy the issuer's .cpuprofile (open it in Chrome DevTools); not kept when absent. */
  readonly profileDir: string | undefined;
}

export const DURATIONS: Readonly<Record<BenchArgs["profile"], Durations>> = {
  quick: { loadSeconds: 6, warmupSeconds: 3, pods: 200, edits: 30, admissionCreates: 150, sidecarStarts: 3 },
  full: { loadSeconds: 20, warmupSeconds: 5, pods: 1000, edits: 100, admissionCreates: 500, sidecarStarts: 10 },
};

export const USAGE = "usage: npm run bench -- [--full] [--parts=1,2,3,4,5,6,7] [--no-write] [--keep-profile=DIR]";

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  let profile: BenchArgs["profile"] = "quick";
  let parts: number[] | undefined;
  let write = true;
  let profileDir: string | undefined;
  for (const arg of argv) {
    if (arg === "--full") profile = "full";
    else if (arg === "--quick") profile = "quick";
    else if (arg === "--no-write") write = false;
    else if (arg.startsWith("--keep-profile=") && arg.length > "--keep-profile=".length) profileDir = arg.slice("--keep-profile=".length);
    else if (arg.startsWith("--parts=")) {
      parts = arg
        .slice("--parts=".length)
        .split(",")
        .map((p) => Number(p.trim()));
      if (parts.some((p) => !Number.isInteger(p) || p < 1 || p > 7)) throw new TypeError(`--parts takes numbers 1 to 7, got ${arg}\n${USAGE}`);
    } else throw new TypeError(`unknown argument ${arg}\n${USAGE}`);
  }
  return { profile, parts, write, profileDir };
}
