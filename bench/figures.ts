// The bench's result model: every figure next to the ceiling or peer measured in the same run, and its target.

export interface Reference {
  /** What the figure is compared with, e.g. "no-op endpoint, same HTTPS stack". */
  readonly name: string;
  readonly value: number;
}

export interface Target {
  /** e.g. "≥ 0.5× no-op", "< 10 ms". */
  readonly text: string;
  readonly met: boolean;
}

export interface Figure {
  readonly part: string;
  readonly measure: string;
  readonly value: number;
  readonly unit: string;
  readonly reference?: Reference;
  /** value / reference.value. */
  readonly ratio?: number;
  readonly target?: Target;
  readonly note?: string;
}

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cpus: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly wrk: string;
  readonly loadAverageAtStart: readonly number[];
  readonly loadAverageAtEnd: readonly number[];
  /** How the two CPUs were shared between the server under test and the load generator. */
  readonly cpuSharing: string;
}

export interface ProfileEntry {
  /** Function name and where it lives (module or file:line). */
  readonly frame: string;
  /** Share of the sampled CPU time, 0..1. */
  readonly selfShare: number;
}

/** A part whose rows a partial run kept from an earlier run. */
export interface CarriedPart {
  readonly part: string;
  readonly startedAt: string;
  readonly profile: "quick" | "full";
}

export interface BenchResult {
  readonly profile: "quick" | "full";
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly machine: MachineInfo;
  readonly figures: readonly Figure[];
  /** Where the issuer's time went under load (node --cpu-prof), grouped by area and by function. */
  readonly cpuProfile?: { readonly byArea: readonly ProfileEntry[]; readonly topFunctions: readonly ProfileEntry[] };
  /** Parts not measured in this run whose rows come from an earlier run (see bench/merge.ts). */
  readonly carried?: readonly CarriedPart[];
  /** Parts that did not run, and why. */
  readonly skipped: readonly { readonly part: string; readonly reason: string }[];
}
