// Part 6: the verifier kit: token checks per CPU-second against a bare express handler in the same run, and the
// latency a DPoP proof from the sidecar adds to a workload's request (p50/p99) against a loopback round trip.
import { randomUUID } from "node:crypto";
import http from "node:http";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import {
  ENV_ISSUER_CA_FILE,
  ENV_ISSUER_URL,
  ENV_LOG_LEVEL,
  ENV_SIDECAR_PORT,
  ENV_SUBJECT_TOKEN_FILE,
  PATH_HEALTHZ,
  SIDECAR_GUARD_HEADER,
  SIDECAR_PATH_PROOF,
} from "../../api/constants.ts";
import { freeLoopbackPort } from "../../test/controlplane/ports.ts";
import { SIDECAR_ENTRY } from "../../sidecar/bundle.ts";
import { BenchChild, waitUntil } from "../child.ts";
import type { BenchContext } from "../context.ts";
import { percentile, ratio } from "../stats.ts";
import { runWrk } from "../wrk.ts";
import { wrkErrorCount } from "../wrk-output.ts";

const PART = "6. Verifier kit";
const ISSUER = "https://issuer.bench.invalid";
const AUDIENCE = "https://payments.bench.invalid";
/** Sequential proof requests timed; enough for a stable p99. */
const PROOF_SAMPLES = 3000;

type Mode = "kit" | "kit-uncached" | "bare";

async function startApi(ctx: BenchContext, mode: Mode, jwks: string): Promise<{ child: BenchChild; url: string }> {
  const port = await freeLoopbackPort();
  const child = new BenchChild({
    name: `express (${mode})`,
    script: "bench/servers/verify-api.ts",
    cpu: ctx.cpus.server,
    env: { BENCH_PORT: String(port), BENCH_VERIFY_MODE: mode, BENCH_ISSUER: ISSUER, BENCH_AUDIENCE: AUDIENCE, BENCH_JWKS: jwks },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(child, `the ${mode} API`, async () => (await fetch(`${url}/v1/balance`).catch(() => undefined)) !== undefined);
  return { child, url };
}

/** Requests per CPU-second of the server under wrk at full rate, after a warm-up. */
async function perCpuSecond(ctx: BenchContext, api: { child: BenchChild; url: string }, token: string): Promise<{ rps: number; perCpuSecond: number }> {
  const headers = { authorization: `Bearer ${token}` };
  const base = { url: api.url, method: "GET" as const, path: "/v1/balance", connections: ctx.connections, headers, cpu: ctx.cpus.load };
  await runWrk({ ...base, durationSeconds: ctx.durations.warmupSeconds });
  const before = await api.child.cpuSeconds();
  const run = await runWrk({ ...base, durationSeconds: ctx.durations.loadSeconds });
  const cpu = (await api.child.cpuSeconds()) - before;
  if (wrkErrorCount(run) > 0) throw new Error(`${api.child.name}: wrk saw ${wrkErrorCount(run)} errors (non-2xx or socket)`);
  return { rps: run.requestsPerSecond, perCpuSecond: run.requests / cpu };
}

/** Milliseconds of sequential requests over one kept-alive connection. */
async function timed(port: number, samples: number, request: () => { method: string; path: string; headers: Record<string, string>; body?: string }): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const out: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    const r = request();
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port, method: r.method, path: r.path, headers: { host: `127.0.0.1:${port}`, ...r.headers }, agent }, (res) => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode !== 200) reject(new Error(`${r.path} answered ${String(res.statusCode)}`));
          else resolve();
        });
      });
      req.on("error", reject);
      req.end(r.body);
    });
    out.push(performance.now() - started);
  }
  agent.destroy();
  return out.sort((a, b) => a - b);
}

export async function benchVerify(ctx: BenchContext): Promise<void> {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "bench", alg: "ES256", use: "sig" }] });
  const iat = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({
    iss: ISSUER,
    sub: "system:serviceaccount:shop:checkout",
    aud: AUDIENCE,
    iat,
    nbf: iat,
    exp: iat + 3600,
    jti: randomUUID(),
    client_id: "system:serviceaccount:shop:checkout",
    scope: "payments.read",
    "tessera.dev/namespace": "shop",
  })
    .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: "bench" })
    .sign(privateKey);

  const zero = { rps: 0, perCpuSecond: 0 };
  const results: Record<Mode, { rps: number; perCpuSecond: number }> = { kit: zero, "kit-uncached": zero, bare: zero };
  for (const mode of ["bare", "kit", "kit-uncached"] as const) {
    const api = await startApi(ctx, mode, jwks);
    try {
      results[mode] = await perCpuSecond(ctx, api, token);
      ctx.log(`${PART}: ${mode} ${Math.round(results[mode].rps)} req/s, ${Math.round(results[mode].perCpuSecond)} per CPU-second`);
    } finally {
      await api.child.stop();
    }
  }
  ctx.figures.push({
    part: PART,
    measure: "requests verified per CPU-second (ES256 bearer token, requireToken with a scope; a workload reuses its token)",
    value: Math.round(results.kit.perCpuSecond),
    unit: "req/CPU-s",
    reference: { name: "the same express route without the kit", value: Math.round(results.bare.perCpuSecond) },
    ratio: ratio(results.kit.perCpuSecond, results.bare.perCpuSecond),
    note: `throughput ${Math.round(results.kit.rps)} vs ${Math.round(results.bare.rps)} req/s on one CPU`,
  });
  ctx.figures.push({
    part: PART,
    measure: "the same, every request paying the signature check (verifiedTokenCacheSize 0)",
    value: Math.round(results["kit-uncached"].perCpuSecond),
    unit: "req/CPU-s",
    reference: { name: "the same express route without the kit", value: Math.round(results.bare.perCpuSecond) },
    ratio: ratio(results["kit-uncached"].perCpuSecond, results.bare.perCpuSecond),
    note: `throughput ${Math.round(results["kit-uncached"].rps)} req/s on one CPU`,
  });

  // The sidecar's proof endpoint: no issuer is needed to sign proofs, so the sidecar runs with placeholders for it.
  const port = await freeLoopbackPort();
  const caFile = join(ctx.scratchDir, "verify-ca.pem");
  const subjectFile = join(ctx.scratchDir, "verify-subject");
  await writeFile(caFile, "");
  await writeFile(subjectFile, "");
  const sidecar = new BenchChild({
    name: "sidecar (proofs)",
    script: SIDECAR_ENTRY,
    cpu: ctx.cpus.server,
    env: { [ENV_ISSUER_URL]: "https://127.0.0.1:9", [ENV_ISSUER_CA_FILE]: caFile, [ENV_SUBJECT_TOKEN_FILE]: subjectFile, [ENV_SIDECAR_PORT]: String(port), [ENV_LOG_LEVEL]: "warn" },
  });
  try {
    await waitUntil(sidecar, "the sidecar", async () => (await fetch(`http://127.0.0.1:${port}${PATH_HEALTHZ}`).catch(() => undefined))?.status === 200);
    const proofBody = JSON.stringify({ method: "GET", url: `${AUDIENCE}/v1/balance`, access_token: token });
    const proof = () => ({ method: "POST", path: SIDECAR_PATH_PROOF, headers: { [SIDECAR_GUARD_HEADER]: "true", "content-type": "application/json" }, body: proofBody });
    const health = () => ({ method: "GET", path: PATH_HEALTHZ, headers: {} });
    await timed(port, 300, proof);
    const proofs = await timed(port, PROOF_SAMPLES, proof);
    const trips = await timed(port, PROOF_SAMPLES, health);
    for (const p of [50, 99] as const) {
      const value = percentile(proofs, p);
      const reference = percentile(trips, p);
      ctx.figures.push({
        part: PART,
        measure: `DPoP proof from the sidecar (POST /v1/proof), p${p}`,
        value: Number(value.toFixed(3)),
        unit: "ms",
        reference: { name: `a loopback round trip to the same sidecar (GET /healthz), p${p}`, value: Number(reference.toFixed(3)) },
        ratio: ratio(value, reference),
        note: `${PROOF_SAMPLES} sequential requests over one kept-alive connection`,
      });
    }
  } finally {
    await sidecar.stop();
  }
}
