// The sidecar as a process: starts without an issuer, serves health, stays unready, exits 0 promptly on SIGTERM.
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ENV_ISSUER_CA_FILE,
  ENV_ISSUER_URL,
  ENV_SIDECAR_PORT,
  ENV_SUBJECT_TOKEN_FILE,
  ENV_TOKEN_DIR,
  ENV_TOKENS,
} from "../../../api/constants.ts";
import { fakeJwt, rawGet } from "./helpers.ts";

const MAIN = path.resolve(import.meta.dirname, "../../../sidecar/src/main.ts");
let dir: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "tessera-main-"));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function until<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("sidecar process", () => {
  it("exits with status 2 and lists every configuration problem", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", MAIN], { env: { PATH: process.env["PATH"] ?? "", [ENV_ISSUER_URL]: "http://x" } });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(2);
    expect(stderr).toContain(`${ENV_ISSUER_URL} must use https`);
    expect(stderr).toContain(`${ENV_ISSUER_CA_FILE} is required`);
    expect(stderr).toContain(`${ENV_SUBJECT_TOKEN_FILE} is required`);
  });

  it("serves health while the issuer is unreachable, reports unready, and exits 0 on SIGTERM", async () => {
    const port = await freePort();
    const deadIssuerPort = await freePort();
    const subject = fakeJwt(Math.floor(Date.now() / 1000) + 3600, "process-subject");
    await fs.writeFile(path.join(dir, "token"), subject);
    await fs.writeFile(path.join(dir, "ca.crt"), "");
    const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
      env: {
        PATH: process.env["PATH"] ?? "",
        [ENV_ISSUER_URL]: `https://127.0.0.1:${deadIssuerPort}`,
        [ENV_ISSUER_CA_FILE]: path.join(dir, "ca.crt"),
        [ENV_SUBJECT_TOKEN_FILE]: path.join(dir, "token"),
        [ENV_TOKENS]: JSON.stringify([{ name: "payments", audience: "https://payments.example" }]),
        [ENV_TOKEN_DIR]: dir,
        [ENV_SIDECAR_PORT]: String(port),
      },
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const host = `127.0.0.1:${port}`;
    const health = await until(async () => {
      const r = await rawGet({ port }, "/healthz", { host });
      return r.status === 200 ? r : undefined;
    });
    expect(health.body).toBe("ok\n");
    // The first exchange fails; wait until the failure is visible in the metrics.
    await until(async () => {
      const m = await rawGet({ port }, "/metrics", { host });
      return m.body.includes('tessera_sidecar_refresh_failures_total{code="ISSUER_UNREACHABLE",token="payments"}') ? m : undefined;
    });
    expect((await rawGet({ port }, "/readyz", { host })).status).toBe(503);
    const token = await rawGet({ port }, "/v1/token?name=payments", { host, "Tessera-Token-Request": "true" });
    expect(token.status).toBe(503);
    expect(JSON.parse(token.body)).toMatchObject({ error: "temporarily_unavailable", tessera_sidecar_error: "ISSUER_UNREACHABLE" });
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(output).toContain("shutting down");
    for (const part of [subject, ...subject.split(".").slice(1)]) expect(output).not.toContain(part);
  });
});
