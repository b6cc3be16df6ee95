// Summarizes a V8 .cpuprofile (node --cpu-prof) into self-time shares by area and by function: pure, unit-tested.
import type { ProfileEntry } from "./figures.ts";

export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
    readonly hitCount?: number;
  }[];
  /** Microseconds (monotonic) when profiling started. */
  readonly startTime?: number;
  /** Node id of each sample, and the µs since the previous one. */
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface ProfileWindow {
  /** Count only samples taken this long after the profile started (ms). */
  readonly fromMs: number;
}

/** Where a frame's code lives: an npm package, a Tessera source folder, a Node subsystem, GC or V8 itself. */
export function areaOf(functionName: string, url: string): string {
  if (url === "") {
    if (functionName === "(garbage collector)") return "garbage collection";
    if (functionName === "(program)") return "V8 and native code (program)";
    return "native";
  }
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
  if (pkg !== undefined) return `npm: ${pkg}`;
  if (url.startsWith("node:")) {
    const rest = url.slice("node:".length).replace(/^internal\/(deps\/)?/, "");
    return `node: ${rest.split("/")[0] ?? rest}`;
  }
  const src = /\/((?:controller|sidecar)\/src\/[^/]+)\//.exec(url)?.[1] ?? /\/(api|controller\/src|sidecar\/src)\/[^/]+$/.exec(url)?.[1];
  if (src !== undefined) return src;
  return "other";
}

function shortUrl(url: string): string {
  const i = url.search(/\/(node_modules|controller|sidecar|api|bench)\//);
  return i === -1 ? url : url.slice(i + 1);
}

function top(map: Map<string, number>, total: number, n: number): ProfileEntry[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([frame, hits]) => ({ frame, selfShare: total > 0 ? hits / total : 0 }));
}

/** Samples per node id: every sample, or only those inside the window when the profile carries timestamps. */
function hitsPerNode(profile: CpuProfile, window: ProfileWindow | undefined): Map<number, number> {
  const hits = new Map<number, number>();
  const { samples, timeDeltas } = profile;
  if (window === undefined || samples === undefined || timeDeltas === undefined) {
    for (const node of profile.nodes) hits.set(node.id, node.hitCount ?? 0);
    return hits;
  }
  const from = window.fromMs * 1000;
  let elapsed = 0;
  samples.forEach((id, i) => {
    elapsed += timeDeltas[i] ?? 0;
    if (elapsed >= from) hits.set(id, (hits.get(id) ?? 0) + 1);
  });
  return hits;
}

/** Self-time shares, idle excluded: the top `areas` areas and `functions` functions. */
export function summarizeProfile(profile: CpuProfile, window?: ProfileWindow, areas = 12, functions = 15): { byArea: ProfileEntry[]; topFunctions: ProfileEntry[] } {
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const perNode = hitsPerNode(profile, window);
  let total = 0;
  for (const node of profile.nodes) {
    const hits = perNode.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (hits === 0 || functionName === "(idle)") continue;
    total += hits;
    const area = areaOf(functionName, url);
    byArea.set(area, (byArea.get(area) ?? 0) + hits);
    const frame = url === "" ? functionName : `${functionName === "" ? "(anonymous)" : functionName} ${shortUrl(url)}:${lineNumber + 1}`;
    byFunction.set(frame, (byFunction.get(frame) ?? 0) + hits);
  }
  return { byArea: top(byArea, total, areas), topFunctions: top(byFunction, total, functions) };
}
