// The generated section of docs/benchmarks.md: number formatting, the table, and splicing between the markers.
import { describe, expect, it } from "vitest";
import type { BenchResult } from "../../../bench/figures.ts";
import { formatNumber, renderFigures, renderSection, SECTION_BEGIN, SECTION_END, spliceSection } from "../../../bench/report.ts";

describe("formatNumber", () => {
  it.each<[string, number, string]>([
    ["groups thousands and drops decimals from large numbers", 17234.4, "17,234"],
    ["keeps one decimal between 10 and 100", 42.345, "42.3"],
    ["keeps two decimals between 1 and 10", 3.456, "3.46"],
    ["keeps three significant digits below 1", 0.012345, "0.0123"],
    ["says n/a for a missing value", Number.NaN, "n/a"],
  ])("%s", (_name, value, expected) => {
    expect(formatNumber(value)).toBe(expected);
  });
});

describe("renderFigures", () => {
  it("writes one row per figure with its reference, ratio and whether the target was met", () => {
    const table = renderFigures([
      { part: "1. Issuance", measure: "Throughput", value: 900, unit: "req/s", reference: { name: "no-op", value: 1800 }, ratio: 0.5, target: { text: "≥ 0.5×", met: true } },
      { part: "1. Issuance", measure: "p99", value: 12, unit: "ms", target: { text: "< 10 ms", met: false }, note: "a | b" },
    ]);
    const rows = table.split("\n");
    expect(rows).toHaveLength(4);
    expect(rows[2]).toBe("| 1. Issuance | Throughput | 900 req/s | no-op: 1,800 req/s | 0.500× | ≥ 0.5× | yes |  |");
    expect(rows[3]).toBe("| 1. Issuance | p99 | 12.0 ms |  |  | < 10 ms | **no** | a \\| b |");
  });
});

describe("spliceSection", () => {
  const section = `${SECTION_BEGIN}\nnew\n${SECTION_END}`;

  it("replaces the generated section and keeps the text around it", () => {
    const doc = `# Benchmarks\n\nintro\n\n${SECTION_BEGIN}\nold\n${SECTION_END}\n\nanalysis\n`;
    expect(spliceSection(doc, section)).toBe(`# Benchmarks\n\nintro\n\n${section}\n\nanalysis\n`);
  });

  it("appends a section to a document that has none", () => {
    expect(spliceSection("# Benchmarks\n", section)).toBe(`# Benchmarks\n\n${section}\n`);
  });
});

describe("renderSection", () => {
  it("names the machine, how the CPUs were shared and what was not measured", () => {
    const result: BenchResult = {
      profile: "quick",
      startedAt: "2026-12-01T20:00:00.000Z",
      durationSeconds: 290,
      machine: { cpuModel: "Test CPU", cpus: 2, memoryGiB: 8, kernel: "6.1", node: "20.20.2", wrk: "wrk 4.1.0", loadAverageAtStart: [1, 2, 3], loadAverageAtEnd: [4, 5, 6], cpuSharing: "server on CPU 0, wrk on CPU 1" },
      figures: [],
      skipped: [{ part: "5. Scale", reason: "not built yet" }],
    };
    const text = renderSection(result);
    expect(text.startsWith(SECTION_BEGIN)).toBe(true);
    expect(text.endsWith(SECTION_END)).toBe(true);
    expect(text).toContain("2 × Test CPU, 8.00 GiB");
    expect(text).toContain("CPU sharing: server on CPU 0, wrk on CPU 1");
    expect(text).toContain("- 5. Scale: not built yet");
    expect(text).not.toContain("Carried over");
  });

  it("says which parts' rows were carried over from an earlier run, and from when", () => {
    const result: BenchResult = {
      profile: "quick",
      startedAt: "2026-12-01T21:00:00.000Z",
      durationSeconds: 120,
      machine: { cpuModel: "Test CPU", cpus: 2, memoryGiB: 8, kernel: "6.1", node: "20.20.2", wrk: "wrk 4.1.0", loadAverageAtStart: [1, 2, 3], loadAverageAtEnd: [4, 5, 6], cpuSharing: "shared" },
      figures: [],
      carried: [{ part: "1. Issuance", startedAt: "2026-12-01T20:00:00.000Z", profile: "quick" }],
      skipped: [],
    };
    expect(renderSection(result)).toContain("the rows of 1. Issuance (run 2026-12-01T20:00:00.000Z, profile quick) are from those earlier runs");
  });
});
