// Quantiles from a Prometheus histogram in text exposition format (the apiserver's /metrics): pure, unit-tested.

export interface Bucket {
  /** Upper bound in the metric's unit; Infinity for +Inf. */
  readonly le: number;
  /** Cumulative count. */
  readonly count: number;
}

/** Sums the `<name>_bucket` series whose labels include every pair of `match`, by bucket bound. */
export function histogramBuckets(text: string, name: string, match: Readonly<Record<string, string>>): Bucket[] {
  const sums = new Map<number, number>();
  const prefix = `${name}_bucket{`;
  for (const line of text.split("\n")) {
    if (!line.startsWith(prefix)) continue;
    const close = line.lastIndexOf("}");
    const labels = new Map<string, string>();
    for (const m of line.slice(prefix.length, close).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels.set(m[1] ?? "", m[2] ?? "");
    if (!Object.entries(match).every(([k, v]) => labels.get(k) === v)) continue;
    const leText = labels.get("le");
    if (leText === undefined) continue;
    const le = leText === "+Inf" ? Number.POSITIVE_INFINITY : Number(leText);
    const count = Number(line.slice(close + 1).trim().split(/\s+/)[0]);
    sums.set(le, (sums.get(le) ?? 0) + count);
  }
  return [...sums.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
}

/** Bucket-wise difference (after - before), for the observations made between two scrapes. */
export function subtractBuckets(after: readonly Bucket[], before: readonly Bucket[]): Bucket[] {
  return after.map((b) => ({ le: b.le, count: b.count - (before.find((x) => x.le === b.le)?.count ?? 0) }));
}

/** Prometheus' histogram_quantile: linear interpolation inside the bucket holding rank q × total. */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number {
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return lowerBound;
      const inBucket = b.count - lowerCount;
      return inBucket === 0 ? b.le : lowerBound + ((b.le - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = b.le;
    lowerCount = b.count;
  }
  return lowerBound;
}

/** Share of observations at or below `le` (an exact bucket bound). */
export function shareAtOrBelow(le: number, buckets: readonly Bucket[]): number {
  const total = buckets.at(-1)?.count ?? 0;
  const bucket = buckets.find((b) => b.le === le);
  return total === 0 || bucket === undefined ? Number.NaN : bucket.count / total;
}
