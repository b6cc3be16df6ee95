// The controller process (controller/src/main.ts) against the real apiserver: ready once caches and keys load, serves JWKS of the configured algorithm, hands the lease back on SIGTERM.
import { Agent, request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LEADER_LEASE_NAME, PATH_INTROSPECT, PATH_JWKS } from "../../../api/constants.ts";
import { freeControllerPorts, spawnController, type ControllerPorts, type SpawnedController } from "../support/controller-launcher.ts";
import { controllerMetricNames } from "../../unit/chart/metric-names.ts";
import { applyCrds, controlPlaneInfo, freshNamespace, kubeClients, waitFor } from "../support/index.ts";

const clients = kubeClients();
let controller: SpawnedController | undefined;
let ports: ControllerPorts;
let ns: string;

/** GET over TLS without verifying (the serving CA is the controller's own; this test checks the route, not the chain). */
async function getInsecure(port: number, path: string, method = "GET"): Promise<{ status: number; body: string }> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, agent: new Agent({ rejectUnauthorized: false }) }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString("utf8")));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

async function leaseHolder(): Promise<string | undefined> {
  const lease = await clients.objects.read({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: LEADER_LEASE_NAME, namespace: ns } });
  return (lease as { spec?: { holderIdentity?: string } }).spec?.holderIdentity;
}

beforeAll(async () => {
  await applyCrds(clients);
  ns = await freshNamespace("tessera-process");
  ports = await freeControllerPorts();
  controller = spawnController({
    kubeconfigPath: controlPlaneInfo().kubeconfigPath,
    namespace: ns,
    podName: "controller-0",
    ports,
    issuerHost: "127.0.0.1",
    clusterName: "test",
    environment: "dev",
    sidecarImage: "tessera/sidecar:test",
    serviceAccountIssuer: controlPlaneInfo().serviceAccountIssuer,
    logLevel: "warn",
    // Not the default: proves the configured algorithm reaches key generation (the issuer tests cover ES256).
    signingAlgorithm: "EdDSA",
  });
}, 60_000);

afterAll(() => {
  controller?.child.kill("SIGKILL");
});

describe("the controller process", () => {
  it("becomes ready once its caches have synced and a signing key is loaded", async () => {
    await waitFor(async () => (await controller?.readyzStatus()) === 200, { timeoutMs: 45_000, description: "/readyz 200" });
    expect(await leaseHolder()).toBe("controller-0");
  });

  it("publishes an Ed25519 signing key in the issuer's JWKS when configured for EdDSA", async () => {
    const res = await getInsecure(ports.issuer, PATH_JWKS);
    expect(res.status).toBe(200);
    const keys = (JSON.parse(res.body) as { keys: { kty: string; crv: string; alg: string }[] }).keys;
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA" });
  });

  it("mounts the audit routes: introspection refuses a caller without credentials", async () => {
    const res = await getInsecure(ports.issuer, PATH_INTROSPECT, "POST");
    expect(res.status).toBe(401);
  });

  it("serves metrics on the health port only, not on the issuer port every pod can reach", async () => {
    expect((await getInsecure(ports.issuer, "/metrics")).status).toBe(404);
  });

  it("exposes the leader gauge and cache sizes on /metrics", async () => {
    const text = await (await fetch(`http://127.0.0.1:${ports.health}/metrics`)).text();
    expect(text).toMatch(/^tessera_leader 1$/m);
    expect(text).toMatch(/^tessera_cache_objects\{resource="namespaces"\} \d+$/m);
  });

  it("reports itself ready, every cache synced and the signing key's age and rotation period on /metrics", async () => {
    const text = await (await fetch(`http://127.0.0.1:${ports.health}/metrics`)).text();
    expect(text).toMatch(/^tessera_ready 1$/m);
    for (const resource of ["pods", "namespaces", "tokenpolicies", "clustertokenpolicies"]) {
      expect(text).toMatch(new RegExp(`^tessera_cache_synced\\{resource="${resource}"\\} 1$`, "m"));
    }
    const activated = Number(/^tessera_signing_key_activated_timestamp_seconds (\S+)$/m.exec(text)?.[1]);
    expect(Math.abs(Date.now() / 1000 - activated)).toBeLessThan(3600);
    expect(text).toMatch(/^tessera_signing_key_rotation_period_seconds 604800$/m);
    expect(text).toMatch(/^tessera_signing_keys\{state="signing"\} 1$/m);
  });

  it("serves every metric the dashboard and alert checks count as exported", async () => {
    // Those checks build the metrics on a fresh registry; this proves the real process registers the same ones.
    const text = await (await fetch(`http://127.0.0.1:${ports.health}/metrics`)).text();
    const served = new Set<string>();
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      if (name === undefined) continue;
      if (type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) served.add(`${name}${suffix}`);
      else if (type === "summary") for (const suffix of ["", "_sum", "_count"]) served.add(`${name}${suffix}`);
      else served.add(name);
    }
    expect([...(await controllerMetricNames())].filter((name) => !served.has(name))).toEqual([]);
  });

  it("releases the lease and exits cleanly on SIGTERM", async () => {
    expect(await controller?.stop()).toBe(0);
    expect(await leaseHolder()).toBe("");
  });
});
