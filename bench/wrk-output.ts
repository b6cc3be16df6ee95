// Parses the JSON summary line bench/rotate.lua prints when wrk finishes: pure, unit-tested.

export interface WrkResult {
  readonly requests: number;
  readonly durationSeconds: number;
  /** Completed requests per second (including non-2xx: check errors.status). */
  readonly requestsPerSecond: number;
  readonly errors: { readonly connect: number; readonly read: number; readonly write: number; readonly status: number; readonly timeout: number };
  /** Latency in milliseconds, as wrk measured it (request written to response read). */
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number; readonly mean: number };
}

export class WrkOutputError extends Error {
  override readonly name = "WrkOutputError";
}

const MARKER = "WRK_JSON ";

function num(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) throw new WrkOutputError(`wrk summary field ${what} is not a number`);
  return value;
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null) throw new WrkOutputError(`wrk summary field ${what} is missing`);
  return value as Record<string, unknown>;
}

/** Finds the summary line in wrk's stdout and converts it to seconds and milliseconds. */
export function parseWrkOutput(stdout: string): WrkResult {
  const line = stdout.split("\n").find((l) => l.startsWith(MARKER));
  if (line === undefined) throw new WrkOutputError(`wrk printed no summary line; its output was:\n${stdout.slice(0, 2000)}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(line.slice(MARKER.length));
  } catch (cause) {
    throw new WrkOutputError("wrk summary line is not JSON", { cause });
  }
  const top = record(parsed, "summary");
  const errors = record(top["errors"], "errors");
  const latency = record(top["latency_us"], "latency_us");
  const requests = num(top["requests"], "requests");
  const durationSeconds = num(top["duration_us"], "duration_us") / 1e6;
  const ms = (key: string): number => num(latency[key], `latency_us.${key}`) / 1000;
  return {
    requests,
    durationSeconds,
    requestsPerSecond: durationSeconds > 0 ? requests / durationSeconds : 0,
    errors: {
      connect: num(errors["connect"], "errors.connect"),
      read: num(errors["read"], "errors.read"),
      write: num(errors["write"], "errors.write"),
      status: num(errors["status"], "errors.status"),
      timeout: num(errors["timeout"], "errors.timeout"),
    },
    latencyMs: { p50: ms("p50"), p90: ms("p90"), p99: ms("p99"), max: ms("max"), mean: ms("mean") },
  };
}

/** Every error wrk counted; a run with errors measures the failure path, not the server. */
export function wrkErrorCount(result: WrkResult): number {
  const e = result.errors;
  return e.connect + e.read + e.write + e.status + e.timeout;
}
