// The demo's report: aligned sections for people, plain without a terminal, complete as JSON.
import { describe, expect, it } from "vitest";
import { formatDuration, renderJson, renderTable, type DemoReport } from "../../../examples/demo/report.ts";

const report: DemoReport = {
  cluster: { source: "local control plane", server: "https://127.0.0.1:6443", version: "v1.34.3" },
  sections: [
    {
      id: "install",
      title: "Install the CRDs and start the controller",
      ok: true,
      elapsedMs: 4200,
      rows: [
        { label: "CRDs", value: "tokenpolicies.tessera.dev  Established=True\nclustertokenpolicies.tessera.dev  Established=True" },
        { label: "issuer", value: "https://localhost:8443" },
      ],
      data: { crds: 2 },
    },
    {
      id: "token",
      title: "Read a token like the application",
      ok: false,
      elapsedMs: 300,
      rows: [{ label: "error", value: "the sidecar answered 503", failed: true }],
      data: { error: "the sidecar answered 503" },
    },
  ],
  ok: false,
  elapsedMs: 12_345,
};

const complete: DemoReport = { ...report, sections: report.sections.filter((s) => s.ok), ok: true };

describe("renderTable", () => {
  it("starts every value, and every continuation line, in one column across sections", () => {
    const lines = renderTable(report, false).split("\n");
    const columns = ["tokenpolicies.tessera.dev", "clustertokenpolicies.tessera.dev", "https://localhost:8443", "the sidecar answered 503"].map((s) =>
      lines.find((l) => l.includes(s))?.indexOf(s),
    );
    expect(columns[0]).toBeGreaterThan(0);
    expect(new Set(columns).size).toBe(1);
  });

  it("numbers the sections and gives each its time, or says it failed", () => {
    const text = renderTable(report, false);
    expect(text).toMatch(/^1\. Install the CRDs and start the controller\s+4\.2 s$/m);
    expect(text).toMatch(/^2\. Read a token like the application\s+failed$/m);
  });

  it("has no escape codes without colour, and some with it", () => {
    expect(renderTable(report, false)).not.toContain("\u001b[");
    expect(renderTable(report, true)).toContain("\u001b[");
  });

  it.each([
    ["names the failed step when one failed", report, 'The demo did not complete: "Read a token like the application" failed'],
    ["reports the total time when every step succeeded", complete, "Done in 12 s."],
  ])("%s", (_name, input, expected) => {
    expect(renderTable(input, false)).toContain(expected);
  });

  it("never leaves trailing spaces", () => {
    expect(renderTable(report, false).split("\n").filter((l) => l !== l.trimEnd())).toEqual([]);
  });
});

describe("formatDuration", () => {
  it.each([
    ["milliseconds below a second", 850, "850 ms"],
    ["one decimal below ten seconds", 1234, "1.2 s"],
    ["whole seconds from ten seconds on", 34_567, "35 s"],
  ])("shows %s", (_name, ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });
});

describe("renderJson", () => {
  it("round-trips the whole report", () => {
    expect(JSON.parse(renderJson(report))).toEqual(report);
  });
});
