// Health listener: liveness always, readiness only when every check passes and not draining, metrics from the registry.
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { startHealthServer, type HealthServer } from "../../../controller/src/health.ts";

let server: HealthServer | undefined;
afterEach(async () => {
  await server?.close();
});

async function start(checks: Record<string, () => string | undefined>): Promise<HealthServer> {
  server = await startHealthServer({ host: "127.0.0.1", port: 0, registry: new Registry(), readiness: checks, log: pino({ level: "silent" }) });
  return server;
}

async function status(s: HealthServer, path: string): Promise<[number, string]> {
  const res = await fetch(`http://127.0.0.1:${s.port}${path}`);
  return [res.status, await res.text()];
}

describe("health server", () => {
  it("is alive while not ready, and says why it is not ready", async () => {
    const s = await start({ caches: () => "pods not synced", keys: () => undefined });
    expect((await status(s, "/healthz"))[0]).toBe(200);
    expect(await status(s, "/readyz")).toEqual([503, "caches: pods not synced\n"]);
  });

  it("is ready when every check passes, and not once draining", async () => {
    const s = await start({ caches: () => undefined });
    expect((await status(s, "/readyz"))[0]).toBe(200);
    s.drain();
    expect((await status(s, "/readyz"))[0]).toBe(503);
  });

  it("serves the injected registry on /metrics", async () => {
    const s = await start({});
    const [code] = await status(s, "/metrics");
    expect(code).toBe(200);
  });
});

describe("the readiness gauge", () => {
  it.each([
    ["reads 0 while a check fails", { caches: () => "pods not synced" }, false, 0],
    ["reads 1 when every check passes", { caches: () => undefined }, false, 1],
    ["reads 0 once draining, though every check passes", { caches: () => undefined }, true, 0],
  ])("%s", async (_name, checks, drain, expected) => {
    const registry = new Registry();
    server = await startHealthServer({ host: "127.0.0.1", port: 0, registry, readiness: checks, log: pino({ level: "silent" }) });
    if (drain) server.drain();
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(await res.text()).toContain(`\ntessera_ready ${String(expected)}\n`);
  });
});
