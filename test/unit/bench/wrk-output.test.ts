// Parsing the summary line bench/rotate.lua prints when wrk finishes.
import { describe, expect, it } from "vitest";
import { parseWrkOutput, WrkOutputError, wrkErrorCount } from "../../../bench/wrk-output.ts";

const WRK_STDOUT = [
  "Running 6s test @ https://127.0.0.1:8443",
  "  1 threads and 32 connections",
  "  Thread Stats   Avg      Stdev     Max   +/- Stdev",
  "Requests/sec:   1499.50",
  'WRK_JSON {"requests":9000,"duration_us":6000000,"errors":{"connect":0,"read":1,"write":0,"status":2,"timeout":0},"latency_us":{"p50":2100,"p90":5000,"p99":12500,"max":40000,"mean":2500.5}}',
  "",
].join("\n");

describe("parseWrkOutput", () => {
  it("reads requests, duration and rate from the summary line", () => {
    const result = parseWrkOutput(WRK_STDOUT);
    expect(result.requests).toBe(9000);
    expect(result.durationSeconds).toBe(6);
    expect(result.requestsPerSecond).toBe(1500);
  });

  it("converts latency from microseconds to milliseconds", () => {
    expect(parseWrkOutput(WRK_STDOUT).latencyMs).toEqual({ p50: 2.1, p90: 5, p99: 12.5, max: 40, mean: 2.5005 });
  });

  it("adds up every kind of error wrk counted", () => {
    expect(wrkErrorCount(parseWrkOutput(WRK_STDOUT))).toBe(3);
  });

  it.each<[string, string]>([
    ["refuses output without a summary line", "Running 6s test\nRequests/sec: 10\n"],
    ["refuses a summary line that is not JSON", "WRK_JSON {requests: 1"],
    ["refuses a summary without latency", 'WRK_JSON {"requests":1,"duration_us":1,"errors":{"connect":0,"read":0,"write":0,"status":0,"timeout":0}}'],
    ["refuses a non-numeric field", 'WRK_JSON {"requests":"many","duration_us":1,"errors":{},"latency_us":{}}'],
  ])("%s", (_name, stdout) => {
    expect(() => parseWrkOutput(stdout)).toThrow(WrkOutputError);
  });
});
