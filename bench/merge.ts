// Keeps the last run's rows of parts a partial run (--parts) did not measure, marked with when they were measured: pure, unit-tested.
import type { BenchResult, CarriedPart, Figure } from "./figures.ts";

/** The part number a figure's part label starts with ("5. Scale" -> 5); NaN when it has none. */
export function partNumber(label: string): number {
  const match = /^(\d+)\./.exec(label);
  return match === null ? Number.NaN : Number(match[1]);
}

/**
 * `current` with the rows of `previous` for every part `current` did not run (`ran`), ordered by part, and the
 * issuance profile kept when part 1 did not run. A carried part's skip notice from `current` is dropped: its rows say more.
 */
export function mergeWithPrevious(current: BenchResult, previous: BenchResult | undefined, ran: readonly number[]): BenchResult {
  if (previous === undefined) return current;
  const carriedFigures = previous.figures.filter((f) => !ran.includes(partNumber(f.part)));
  if (carriedFigures.length === 0 && (ran.includes(1) || previous.cpuProfile === undefined)) return current;
  const carriedLabels = [...new Set(carriedFigures.map((f) => f.part))];
  const carried: CarriedPart[] = carriedLabels.map((part) => {
    const earlier = previous.carried?.find((c) => c.part === part);
    return earlier ?? { part, startedAt: previous.startedAt, profile: previous.profile };
  });
  const figures: Figure[] = [...carriedFigures, ...current.figures]
    .map((f, i) => ({ f, i }))
    .sort((a, b) => (partNumber(a.f.part) || 0) - (partNumber(b.f.part) || 0) || a.i - b.i)
    .map(({ f }) => f);
  const cpuProfile = current.cpuProfile ?? (ran.includes(1) ? undefined : previous.cpuProfile);
  return {
    ...current,
    figures,
    ...(cpuProfile === undefined ? {} : { cpuProfile }),
    ...(carried.length === 0 ? {} : { carried }),
    skipped: current.skipped.filter((s) => !carriedLabels.includes(s.part)),
  };
}
