// The sidecar as a process, from source and as the image's bundle: config errors, health without an issuer, SIGTERM.
import { execFile, spawn } from "node:child_process";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ENV_ISSUER_CA_FILE,
  ENV_ISSUER_URL,
  ENV_SIDECAR_PORT,
  ENV_SUBJECT_TOKEN_FILE,
  ENV_TOKEN_DIR,
  ENV_TOKENS,
} from "../../../api/constants.ts";
import { LICENSES_FILE } from "../../../sidecar/bundle.ts";
import { fakeJwt, rawGet } from "./helpers.ts";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const MAIN = path.join(ROOT, "sidecar/src/main.ts");
let dir: string;
let bundleDir: string;
let bundle: string;

// The bundle is written by the build's own step, into a directory outside the repository: the image carries no
// node_modules, so the bundle must start with nothing to resolve beside it.
beforeAll(async () => {
  bundleDir = await fs.mkdtemp(path.join(os.tmpdir(), "tessera-bundle-"));
  bundle = path.join(bundleDir, "tessera-sidecar.mjs");
  await promisify(execFile)(process.execPath, ["--import", "tsx", path.join(ROOT, "sidecar/bundle.ts"), bundle], { cwd: ROOT });
}, 120_000);
afterAll(async () => {
  await fs.rm(bundleDir, { recursive: true, force: true });
});

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

/** How the sidecar is started (node's arguments, its working directory): from source as the tests do, or as the image does. */
const WAYS: [string, () => { argv: string[]; cwd: string }][] = [
  ["from source with tsx", () => ({ argv: ["--import", "tsx", MAIN], cwd: ROOT })],
  ["as the image runs it: the bundle with plain node", () => ({ argv: [bundle], cwd: bundleDir })],
];

describe("the sidecar bundle", () => {
  it("is one file with the licences of what it bundles beside it", async () => {
    const licenses = await fs.readFile(path.join(bundleDir, LICENSES_FILE), "utf8");
    expect(licenses).toMatch(/^pino@\d+\.\d+\.\d+ \(MIT\)$/m);
    expect(await fs.readFile(bundle, "utf8")).not.toMatch(/from "(pino|\.\.?\/)/);
  });
});

describe.each(WAYS)("sidecar process %s", (_way, how) => {
  it("exits with status 2 and lists every configuration problem", async () => {
    const { argv, cwd } = how();
    const child = spawn(process.execPath, argv, { cwd, env: { PATH: process.env["PATH"] ?? "", [ENV_ISSUER_URL]: "http://x" } });
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
    const { argv, cwd } = how();
    const child = spawn(process.execPath, argv, {
      cwd,
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
    // The first exchange asks the dead port again for about 3 s (a replica that just died) before it counts as failed.
  }, 15_000);
});
