// Shared test doubles for the sidecar: a manual clock, a seeded random source, JWT-shaped strings, a captured logger.
import http from "node:http";
import { Writable } from "node:stream";
import { pino } from "pino";
import type { Logger } from "pino";

export interface ManualClock {
  now: () => Date;
  advance(ms: number): void;
  set(ms: number): void;
  ms(): number;
}

export function manualClock(startMs = Date.UTC(2026, 0, 1)): ManualClock {
  let t = startMs;
  return {
    now: () => new Date(t),
    advance(ms) {
      t += ms;
    },
    set(ms) {
      t = ms;
    },
    ms: () => t,
  };
}

/** Deterministic random in [0, 1) (mulberry32), so jitter tests are repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** A compact JWT-shaped string (unsigned: the sidecar never verifies) with the given exp and a unique marker. */
export function fakeJwt(expSeconds: number, marker: string): string {
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${enc({ alg: "ES256", typ: "at+jwt" })}.${enc({ exp: expSeconds, jti: marker })}.${Buffer.from(`sig-${marker}`).toString("base64url")}`;
}

/** A pino logger whose every line is kept, so tests can scan logs for secrets. */
export function capturedLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString("utf8"));
      cb();
    },
  });
  return { logger: pino({ level: "trace" }, stream), lines };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** node:http GET with full control of headers (fetch forbids setting Host). */
export function rawGet(
  target: { port?: number; socketPath?: string },
  path: string,
  headers: Record<string, string>,
  method = "GET",
  body?: string,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", ...target, path, method, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
