// The controller process killed (SIGKILL) under load from sidecars: each sidecar keeps serving the token it holds
// until that token expires, turns unready then, and recovers on its own when the controller is back.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freeLoopbackPort } from "../../controlplane/ports.ts";
import { startSidecarProcess, type SidecarProcess } from "../sidecar/sidecar-process.ts";
import type { SpawnedController } from "../support/controller-launcher.ts";
import { waitFor, writeProjectedTokenFile } from "../support/index.ts";
import { FAULT_AUDIENCE, startFaultStack, type FaultStack } from "./fault-stack.ts";

/** Short tokens, so the held ones expire during the test: the sidecar refreshes at about half of this. */
const TOKEN_TTL_SECONDS = 60;
/** Each application asks its sidecar every this many ms. */
const LOAD_INTERVAL_MS = 100;
const SIDECARS = 2;

interface Served {
  readonly sidecar: number;
  readonly atMs: number;
  readonly status: number;
  /** exp of the served token in ms, when one was served. */
  readonly expMs?: number;
}

let stack: FaultStack;
let controller: SpawnedController;
let scratch: string;
const sidecars: SidecarProcess[] = [];

/** GET /v1/token as an application does, noting what was served and when. */
async function ask(index: number): Promise<Served> {
  const sidecar = sidecars[index];
  if (sidecar === undefined) throw new Error("no sidecar");
  const atMs = Date.now();
  const reply = await sidecar.token("name=ledger");
  const token = reply.json["access_token"];
  return { sidecar: index, atMs, status: reply.status, ...(typeof token === "string" ? { expMs: (decodeJwt(token).exp ?? 0) * 1000 } : {}) };
}

beforeAll(async () => {
  stack = await startFaultStack({ privateControlPlane: false, tokenTtlSeconds: TOKEN_TTL_SECONDS });
  controller = await stack.replica("controller-0");
  scratch = await mkdtemp(join(tmpdir(), "tessera-faults-killed-"));
  const caFile = join(scratch, "ca.crt");
  await writeFile(caFile, await stack.caPem());
  for (let i = 0; i < SIDECARS; i++) {
    const pod = await stack.addPod(`app-${String(i)}`);
    const dir = join(scratch, `pod-${String(i)}`);
    await writeProjectedTokenFile(join(dir, "subject"), pod.token);
    sidecars.push(
      startSidecarProcess({
        issuerUrl: controller.issuerUrl,
        caFile,
        subjectTokenFile: join(dir, "subject", "token"),
        tokenDir: dir,
        tokens: [{ name: "ledger", audience: FAULT_AUDIENCE }],
        port: await freeLoopbackPort(),
      }),
    );
  }
  for (const sidecar of sidecars) {
    await waitFor(async () => (await sidecar.get("/readyz").catch(() => ({ status: 0 }))).status === 200, { timeoutMs: 60_000, description: "a sidecar's first token" });
  }
}, 300_000);

afterAll(async () => {
  await Promise.all(sidecars.map((s) => s.terminate()));
  await stack.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe("the controller killed under load", () => {
  it("leaves sidecars serving their held tokens until expiry, unready after, and recovering on their own when it returns", async () => {
    const served: Served[] = [];
    let sequence = 0;
    const timer = setInterval(() => {
      const index = sequence++ % SIDECARS;
      void ask(index).then((s) => served.push(s));
    }, LOAD_INTERVAL_MS);
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    // What each sidecar holds at the moment of the kill, and until when.
    const held = await Promise.all(sidecars.map((_, i) => ask(i)));
    const heldUntil = held.map((h) => h.expMs ?? 0);
    const ports = controller.ports;
    controller.child.kill("SIGKILL");
    const killedAt = Date.now();
    await controller.stop();

    // Readiness follows each held token's expiry.
    const unreadyAfterExpiryMs: number[] = [];
    for (const [i, sidecar] of sidecars.entries()) {
      await waitFor(async () => (await sidecar.get("/readyz")).status === 503, { timeoutMs: 90_000, intervalMs: 100, description: `sidecar ${String(i)} unready` });
      unreadyAfterExpiryMs.push(Date.now() - (heldUntil[i] ?? 0));
    }
    const lastExpiry = Math.max(...heldUntil);
    const downForMs = Date.now() - killedAt;

    // The controller comes back where it was (a restarted pod behind the same Service).
    const returned = await stack.replica("controller-0", { ports });
    const backAt = Date.now();
    for (const [i, sidecar] of sidecars.entries()) {
      await waitFor(async () => (await sidecar.get("/readyz")).status === 200, { timeoutMs: 90_000, intervalMs: 250, description: `sidecar ${String(i)} ready again` });
    }
    const recoveredMs = Date.now() - backAt;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    clearInterval(timer);
    await new Promise((resolve) => setTimeout(resolve, 500));

    const whileHeld = served.filter((s) => s.atMs >= killedAt && s.atMs < (heldUntil[s.sidecar] ?? 0) - 1_000);
    const afterRecovery = served.filter((s) => s.atMs >= backAt + recoveredMs);
    const expiredServed = served.filter((s) => s.expMs !== undefined && s.expMs <= s.atMs);
    console.log(
      `[faults] controller killed: ${String(whileHeld.filter((s) => s.status === 200).length)}/${String(whileHeld.length)} application requests served ` +
        `from held tokens while it was down (held for up to ${((lastExpiry - killedAt) / 1000).toFixed(1)} s after the kill); ` +
        `sidecars unready ${unreadyAfterExpiryMs.map((ms) => (ms / 1000).toFixed(1)).join(" s, ")} s after their tokens' expiry; ` +
        `ready again ${(recoveredMs / 1000).toFixed(1)} s after the controller was (down ${(downForMs / 1000).toFixed(0)} s); ${String(expiredServed.length)} expired tokens served`,
    );
    expect(whileHeld.length).toBeGreaterThan(0);
    expect(whileHeld.filter((s) => s.status !== 200)).toEqual([]);
    expect(expiredServed).toEqual([]);
    // Readiness turned within a bounded time of expiry (the sidecar checks at exp; the margin is for a busy machine).
    for (const ms of unreadyAfterExpiryMs) expect(ms).toBeLessThan(10_000);
    expect(afterRecovery.length).toBeGreaterThan(0);
    expect(afterRecovery.filter((s) => s.status !== 200)).toEqual([]);
    expect(returned.child.exitCode).toBeNull();
  }, 300_000);
});
