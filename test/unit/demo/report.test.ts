// The demo's summary: aligned for people, plain without a terminal, complete as JSON.
import { describe, expect, it } from "vitest";
import { renderJson, renderTable, type DemoReport } from "../../../examples/demo/report.ts";

const report: DemoReport = {
  cluster: { source: "local control plane", server: "https://127.0.0.1:6443", version: "v1.34.3" },
  steps: [
    {
      title: "Apply Tessera's CRDs",
      rows: [{ kind: "CustomResourceDefinition", name: "tokenpolicies.tessera.dev", result: "applied", status: "Established=True" }],
    },
    {
      title: "Apply the example policies",
      rows: [{ kind: "TokenPolicy", name: "payments/checkout", result: "failed", status: "spec.owner: Required value" }],
    },
  ],
  ok: false,
};

describe("renderTable", () => {
  it("aligns the status column across every step", () => {
    const lines = renderTable(report, false).split("\n");
    const statusColumns = ["Established=True", "spec.owner: Required value"].map((s) =>
      lines.find((l) => l.includes(s))?.indexOf(s),
    );
    expect(statusColumns[0]).toBeGreaterThan(0);
    expect(statusColumns[0]).toBe(statusColumns[1]);
  });

  it("has no escape codes without colour, and some with it", () => {
    expect(renderTable(report, false)).not.toContain("\u001b[");
    expect(renderTable(report, true)).toContain("\u001b[");
  });

  it("says plainly when something was not applied", () => {
    expect(renderTable(report, false)).toContain("Some objects were not applied");
  });
});

describe("renderJson", () => {
  it("round-trips the whole report", () => {
    expect(JSON.parse(renderJson(report))).toEqual(report);
  });
});
