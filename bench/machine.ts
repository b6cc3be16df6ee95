// The machine a run measured: CPUs, memory, kernel, Node, wrk and the load average around the run.
import { spawnSync } from "node:child_process";
import { cpus, loadavg, release, totalmem } from "node:os";

export function wrkVersion(): string {
  const out = spawnSync("wrk", ["--version"], { encoding: "utf8" });
  return (`${out.stdout}${out.stderr}`.split("\n")[0] ?? "wrk").replace(/\s*\[.*$/, "").trim();
}

export function describeMachine(): { cpuModel: string; cpus: number; memoryGiB: number; kernel: string; node: string; wrk: string; loadAverage: number[] } {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? "unknown CPU",
    cpus: list.length,
    memoryGiB: totalmem() / 1024 ** 3,
    kernel: release(),
    node: process.versions.node,
    wrk: wrkVersion(),
    loadAverage: loadavg(),
  };
}
