// The sidecar process against the real control plane, controller and issuer: serving, files, rotation, outage, re-issuance.
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, decodeJwt, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_GROUP, API_VERSION, DEFAULT_TESSERA_AUDIENCE, RESOURCE_TOKEN_POLICIES } from "../../../api/constants.ts";
import type { TokenPolicy } from "../../../api/token-policy.ts";
import type { ControllerCore } from "../../../controller/src/reconcile/controller.ts";
import type { PolicySet } from "../../../controller/src/policy/index.ts";
import type { CompiledResource } from "../../../controller/src/app/engine-adapters.ts";
import { freeLoopbackPorts } from "../../controlplane/ports.ts";
import { startController } from "../controller/start-controller.ts";
import {
  applyCrds,
  createPod,
  createServiceAccount,
  deletePod,
  freshNamespace,
  kubeClients,
  mintProjectedToken,
  waitFor,
  writeProjectedTokenFile,
} from "../support/index.ts";
import { startSidecarProcess, type SidecarProcess } from "./sidecar-process.ts";
import { fetchJwks, startIssuerWithFeed, type IssuerHandle } from "./stack.ts";

const PAYMENTS = "https://payments.internal.example";
const REPORTS = "https://reports.internal.example";
const LEDGER = "https://ledger.internal.example";
const clients = kubeClients();

let core: ControllerCore<CompiledResource, PolicySet>;
let issuer: IssuerHandle;
let sidecar: SidecarProcess;
let ns: string;
let dir: string;
let pod: Awaited<ReturnType<typeof createPod>>;
/** Every token this run handled, to be absent from the sidecar's logs. */
const seenTokens: string[] = [];

function policyBody(tier: string): Record<string, unknown> {
  return {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: "TokenPolicy",
    metadata: { name: "checkout", namespace: ns },
    spec: {
      owner: { team: "checkout" },
      subjects: { serviceAccounts: ["checkout-api"] },
      audiences: [PAYMENTS, REPORTS, LEDGER],
      ttlSeconds: 60,
      claims: [{ name: "tier", expression: JSON.stringify(tier) }],
    },
  };
}

async function verified(token: string, audience: string) {
  const jwks = createLocalJWKSet(await fetchJwks(issuer));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: issuer.url, audience, typ: "at+jwt" });
  return { payload, protectedHeader };
}

async function servedToken(query = "name=payments"): Promise<string> {
  const res = await sidecar.token(query);
  expect(res.status).toBe(200);
  const token = res.json["access_token"];
  if (typeof token !== "string") throw new Error("no access_token");
  seenTokens.push(token);
  return token;
}

async function newSubjectToken(audience = DEFAULT_TESSERA_AUDIENCE): Promise<string> {
  const token = await mintProjectedToken({ namespace: ns, serviceAccount: "checkout-api", pod, audience, expirationSeconds: 3600 });
  seenTokens.push(token);
  await writeProjectedTokenFile(join(dir, "subject"), token);
  return token;
}

beforeAll(async () => {
  await applyCrds(clients);
  const controllerNs = await freshNamespace("tessera-system");
  ns = await freshNamespace("sidecar");
  await createServiceAccount(ns, "checkout-api", clients);
  core = await startController(clients.kubeConfig, controllerNs, "sidecar-it");
  await waitFor(() => core.leader.isLeader(), { description: "the controller to lead" });
  await clients.custom.createNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: ns, plural: RESOURCE_TOKEN_POLICIES, body: policyBody("gold") });
  pod = await createPod(ns, { name: "checkout-api-0", serviceAccountName: "checkout-api" }, clients);
  const [issuerPort, sidecarPort] = await freeLoopbackPorts(2);
  issuer = await startIssuerWithFeed(core, controllerNs, issuerPort ?? 0);
  dir = await mkdtemp(join(tmpdir(), "tessera-sidecar-it-"));
  await writeFile(join(dir, "ca.crt"), issuer.caPem);
  await newSubjectToken();
  sidecar = startSidecarProcess({
    issuerUrl: issuer.url,
    caFile: join(dir, "ca.crt"),
    subjectTokenFile: join(dir, "subject", "token"),
    tokenDir: dir,
    tokens: [{ name: "payments", audience: PAYMENTS }],
    port: sidecarPort ?? 0,
  });
  await waitFor(async () => (await sidecar.get("/readyz").catch(() => ({ status: 0 }))).status === 200, {
    timeoutMs: 30_000,
    description: "the sidecar to hold its first token",
  });
});

afterAll(async () => {
  await sidecar.terminate();
  await issuer.stop();
  await core.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("sidecar against the real issuer", () => {
  it("serves a valid pod-bound token on its endpoint and in its file", async () => {
    const token = await servedToken();
    const { payload } = await verified(token, PAYMENTS);
    expect(payload["tier"]).toBe("gold");
    expect(JSON.stringify(payload)).toContain(pod.metadata?.uid ?? "no-uid");
    const file = await readFile(join(dir, "payments"), "utf8");
    seenTokens.push(file);
    await verified(file, PAYMENTS);
    expect((await stat(join(dir, "payments"))).mode & 0o777).toBe(0o640);
    const res = await sidecar.token("name=payments");
    expect(res.json).toMatchObject({ token_type: "Bearer", issued_token_type: "urn:ietf:params:oauth:token-type:access_token" });
  });

  it("passes the issuer's denial of an audience no policy grants through as an OAuth error", async () => {
    const res = await sidecar.token(`audience=${encodeURIComponent("https://unknown.internal.example")}`);
    expect([400, 403]).toContain(res.status);
    expect(typeof res.json["error"]).toBe("string");
    expect(typeof res.json["error_description"]).toBe("string");
    expect(res.json["access_token"]).toBeUndefined();
  });

  it("reaches the served token with a policy edit within 2 s", async () => {
    const current = (await clients.custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: ns, plural: RESOURCE_TOKEN_POLICIES, name: "checkout" })) as TokenPolicy;
    const edited = policyBody("platinum");
    await clients.custom.replaceNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace: ns,
      plural: RESOURCE_TOKEN_POLICIES,
      name: "checkout",
      body: { ...edited, metadata: { ...(edited["metadata"] as object), resourceVersion: current.metadata.resourceVersion } },
    });
    const editedAt = Date.now();
    await waitFor(async () => decodeJwt(await servedToken())["tier"] === "platinum", { timeoutMs: 2_000, intervalMs: 50, description: "the edited claim in the served token" });
    console.log(`[sidecar] policy edit reached the served token after ${Date.now() - editedAt} ms`);
    await waitFor(async () => decodeJwt(await readFile(join(dir, "payments"), "utf8"))["tier"] === "platinum", { timeoutMs: 2_000, intervalMs: 50, description: "the edited claim in the token file" });
  });

  it("reads the rotated projected token file for the next exchange", async () => {
    // A token for the same pod but the wrong audience: the issuer must refuse the next exchange.
    await newSubjectToken("not-tessera");
    const refused = await sidecar.token(`audience=${encodeURIComponent(REPORTS)}`);
    expect([400, 403]).toContain(refused.status);
    // A fresh valid token: the next exchange succeeds with it.
    await newSubjectToken();
    const token = await servedToken(`audience=${encodeURIComponent(LEDGER)}`);
    await verified(token, LEDGER);
    await waitFor(async () => (await sidecar.get("/readyz")).status === 200, { description: "the sidecar to stay ready" });
  });

  it(
    "serves the cached token while the issuer is down, turns unready at exp, and recovers when the issuer returns",
    async () => {
      const before = await servedToken();
      const exp = (decodeJwt(before).exp ?? 0) * 1000;
      await issuer.stop();
      // Past the refresh point with the issuer down: failures are counted and the same token is still served.
      await waitFor(
        async () => (await sidecar.get("/metrics")).body.includes('tessera_sidecar_refresh_failures_total{code="ISSUER_UNREACHABLE",token="payments"}'),
        { timeoutMs: 70_000, intervalMs: 500, description: "a failed refresh" },
      );
      expect(await servedToken()).toBe(before);
      expect((await sidecar.get("/readyz")).status).toBe(200);
      await waitFor(async () => (await sidecar.get("/readyz")).status === 503, { timeoutMs: 70_000, intervalMs: 250, description: "readiness to fail" });
      expect(Date.now()).toBeGreaterThanOrEqual(exp - 1_000);
      const missing = await sidecar.token("name=payments");
      expect(missing.status).toBe(503);
      expect(missing.json).toMatchObject({ error: "temporarily_unavailable", tessera_sidecar_error: "ISSUER_UNREACHABLE" });
      await issuer.restart();
      await waitFor(async () => (await sidecar.get("/readyz")).status === 200, { timeoutMs: 45_000, intervalMs: 250, description: "recovery" });
      const after = await servedToken();
      expect(after).not.toBe(before);
      await verified(after, PAYMENTS);
    },
    180_000,
  );

  it("reports unready for good once its pod is deleted", async () => {
    await deletePod(ns, pod.metadata?.name ?? "", clients);
    const deletedAt = Date.now();
    await waitFor(async () => (await sidecar.get("/readyz")).body === "pod is gone\n", { timeoutMs: 60_000, intervalMs: 100, description: "pod gone" });
    console.log(`[sidecar] pod deletion reached the sidecar after ${Date.now() - deletedAt} ms`);
    expect((await sidecar.token(`audience=${encodeURIComponent(PAYMENTS)}`)).json).toMatchObject({ tessera_sidecar_error: "POD_GONE" });
  }, 90_000);

  it("never logs a token and exits 0 on SIGTERM", async () => {
    expect(await sidecar.terminate()).toBe(0);
    const log = sidecar.output();
    expect(log).toContain("token refreshed");
    for (const token of new Set(seenTokens)) {
      for (const part of [token, ...token.split(".").slice(1)]) expect(log).not.toContain(part);
    }
  });
});
