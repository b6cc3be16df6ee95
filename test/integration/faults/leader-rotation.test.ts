// The leader killed in the middle of a key rotation, under load on two replicas of the real controller process:
// an independent verifier that refreshes the JWKS as docs/issuer.md tells verifiers to sees 0 failures.
//
// The rotation is the leader's own: the stored signing key is aged so that its successor is due, and the leader
// generates and publishes it on its next tick. A successor signs only 600 s after it is published (the fixed
// pre-publication time); rather than wait, the test then moves that stored activateAt to a few seconds ahead, as
// if those minutes had passed. Everything else (publishing, the new leader's re-planning, switching to the
// successor by clock on every replica) is the controllers' doing.
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ENV_KEY_ROTATION_SECONDS,
  ENV_LEASE_DURATION_SECONDS,
  ENV_RENEW_DEADLINE_SECONDS,
  ENV_RETRY_PERIOD_SECONDS,
  LEADER_LEASE_NAME,
  PATH_DISCOVERY,
} from "../../../api/constants.ts";
import { SecretKeyStore } from "../../../controller/src/issuer/keys/key-store.ts";
import type { KeyRecord } from "../../../controller/src/issuer/keys/keys.ts";
import type { SpawnedController } from "../support/controller-launcher.ts";
import { oauthError, type IssuerHttp } from "../support/issuer-http.ts";
import { waitFor } from "../support/index.ts";
import { FAULT_AUDIENCE, startFaultStack, type FaultStack, type WorkloadPod } from "./fault-stack.ts";

/** The shortest rotation period the controller accepts: a successor is generated 600 s before it is due. */
const ROTATION_SECONDS = 3600;
/** Short leases, so the follower takes over within seconds of the leader's death. */
const LEASE_ENV = { [ENV_LEASE_DURATION_SECONDS]: "6", [ENV_RENEW_DEADLINE_SECONDS]: "4", [ENV_RETRY_PERIOD_SECONDS]: "1" };
/** Where the successor's activation is moved to, after the kill. */
const ACTIVATE_IN_MS = 20_000;
const LOAD_INTERVAL_MS = 100;
/** docs/issuer.md: on an unknown kid, refetch, rate-limited. */
const REFETCH_COOLDOWN_MS = 10_000;

let stack: FaultStack;
let http: IssuerHttp;
let pods: WorkloadPod[];
const replicas = new Map<string, SpawnedController>();

/** A verifier as docs/issuer.md describes one: discovery, then the JWKS cached for its max-age, refetched on an unknown kid. */
class DocumentedVerifier {
  readonly #issuer: string;
  /** Where the issuer is reached now: through the Service, any live replica. */
  readonly #reach: () => string;
  #jwks: JSONWebKeySet = { keys: [] };
  #fetchedAt = 0;
  #maxAgeMs = 0;
  fetches: string[] = [];

  constructor(issuer: string, reach: () => string) {
    this.#issuer = issuer;
    this.#reach = reach;
  }

  async #fetch(reason: string): Promise<void> {
    const discovery = JSON.parse((await http.get(this.#reach(), PATH_DISCOVERY)).body) as { issuer: string; jwks_uri: string };
    if (discovery.issuer !== this.#issuer) throw new Error("discovery names another issuer");
    const reply = await http.get(this.#reach(), new URL(discovery.jwks_uri).pathname);
    this.#jwks = JSON.parse(reply.body) as JSONWebKeySet;
    this.#maxAgeMs = Number(/max-age=(\d+)/.exec(String(reply.headers["cache-control"]))?.[1] ?? "0") * 1000;
    this.#fetchedAt = Date.now();
    this.fetches.push(reason);
  }

  /** The kid of a verified token; throws if it does not verify. */
  async verify(token: string): Promise<string> {
    if (Date.now() >= this.#fetchedAt + this.#maxAgeMs) await this.#fetch("max-age");
    const kid = decodeProtectedHeader(token).kid ?? "";
    if (!this.#jwks.keys.some((k) => k.kid === kid) && Date.now() >= this.#fetchedAt + REFETCH_COOLDOWN_MS) await this.#fetch("unknown kid");
    await jwtVerify(token, createLocalJWKSet(this.#jwks), { issuer: this.#issuer, audience: FAULT_AUDIENCE, typ: "at+jwt" });
    return kid;
  }
}

async function leaseHolder(): Promise<string | undefined> {
  const lease = await stack.clients.objects.read({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: LEADER_LEASE_NAME, namespace: stack.controllerNamespace } });
  return (lease as { spec?: { holderIdentity?: string } }).spec?.holderIdentity;
}

function replica(name: string): SpawnedController {
  const r = replicas.get(name);
  if (r === undefined) throw new Error(`no replica ${name}`);
  return r;
}

/** The one issuer URL both replicas put in their tokens (replica-a's address stands for the Service's). */
let publicUrl: string | undefined;

const start = async (name: string, ports?: SpawnedController["ports"]): Promise<void> => {
  const started = await stack.replica(name, {
    env: { ...LEASE_ENV, [ENV_KEY_ROTATION_SECONDS]: String(ROTATION_SECONDS) },
    ...(ports === undefined ? {} : { ports }),
    ...(publicUrl === undefined ? {} : { issuerPublicUrl: publicUrl }),
  });
  publicUrl ??= started.issuerUrl;
  replicas.set(name, started);
};

beforeAll(async () => {
  stack = await startFaultStack({ privateControlPlane: false });
  await start("replica-a");
  await waitFor(async () => (await leaseHolder()) === "replica-a", { timeoutMs: 30_000, description: "replica-a leads" });
  await start("replica-b");
  http = await stack.http();
  pods = await Promise.all([0, 1, 2, 3].map((i) => stack.addPod(`app-${String(i)}`)));
}, 300_000);

afterAll(async () => {
  await stack.stop();
});

describe("the leader killed during a key rotation", () => {
  it("costs an independent verifier that refreshes the JWKS as documented 0 verification failures", async () => {
    const store = new SecretKeyStore(stack.clients.core, stack.controllerNamespace);
    // The Service in front of the replicas: round-robin over those alive.
    const alive = new Set(["replica-a", "replica-b"]);
    const verifier = new DocumentedVerifier(publicUrl ?? "", () => replica([...alive][0] ?? "replica-b").issuerUrl);
    const kids = new Map<string, number>();
    const exchangeFailures: string[] = [];
    const verifyFailures: string[] = [];
    let sent = 0;
    const inFlight = new Set<Promise<void>>();
    const timer = setInterval(() => {
      const targets = [...alive];
      const target = targets[sent % targets.length] ?? "replica-b";
      const pod = pods[sent % pods.length];
      sent += 1;
      if (pod === undefined) return;
      const done = (async () => {
        const reply = await http.exchange(replica(target).issuerUrl, pod.token, FAULT_AUDIENCE);
        if (reply.status !== 200) {
          exchangeFailures.push(`${target}: ${String(reply.status)} ${oauthError(reply) ?? reply.error ?? ""}`);
          return;
        }
        const token = (JSON.parse(reply.body) as { access_token: string }).access_token;
        try {
          const kid = await verifier.verify(token);
          kids.set(kid, (kids.get(kid) ?? 0) + 1);
        } catch (error) {
          verifyFailures.push(error instanceof Error ? error.message : String(error));
        }
      })().finally(() => inFlight.delete(done));
      inFlight.add(done);
    }, LOAD_INTERVAL_MS);

    // Age the signing key so its successor is due: the leader generates and publishes it on its next tick.
    const stored = await store.load();
    expect(stored.records).toHaveLength(1);
    const first = stored.records[0] as KeyRecord;
    const aged = new Date(Date.now() - (ROTATION_SECONDS - 600 + 5) * 1000).toISOString();
    await store.save([{ ...first, createdAt: aged, activateAt: aged }], stored.version);
    const successor = await waitFor(
      async () => {
        const { records } = await store.load();
        return records.length === 2 ? records.find((r) => r.kid !== first.kid) : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, description: "the leader to publish a successor key" },
    );
    await waitFor(
      async () => ((JSON.parse((await http.get(replica("replica-b").issuerUrl, "/.well-known/jwks.json")).body) as JSONWebKeySet).keys.length === 2 ? true : undefined),
      { timeoutMs: 45_000, description: "the follower to publish the successor too" },
    );

    // Mid-rotation: the successor is published, not yet signing. The leader dies without handing over its lease.
    alive.delete("replica-a");
    const portsA = replica("replica-a").ports;
    replica("replica-a").child.kill("SIGKILL");
    await replica("replica-a").stop();
    const killedAt = Date.now();

    // As if the pre-publication minutes had passed: the successor signs a few seconds from now.
    const pending = await store.load();
    const activateAt = new Date(Date.now() + ACTIVATE_IN_MS);
    await store.save(
      pending.records.map((r) => (r.kid === successor.kid ? { ...r, activateAt: activateAt.toISOString() } : r)),
      pending.version,
    );
    await waitFor(async () => (await leaseHolder()) === "replica-b", { timeoutMs: 60_000, description: "replica-b takes the lease" });
    const takeoverMs = Date.now() - killedAt;
    // The dead leader comes back as a follower, as its Deployment would restart it.
    await start("replica-a", portsA);
    alive.add("replica-a");
    await waitFor(() => Date.now() > activateAt.getTime() + 15_000 || undefined, { timeoutMs: ACTIVATE_IN_MS + 120_000, intervalMs: 500 });
    clearInterval(timer);
    await Promise.all([...inFlight]);

    const final = await store.load();
    console.log(
      `[faults] leader killed mid-rotation: ${String(sent)} exchanges over both replicas, ` +
        `${String([...kids.values()].reduce((a, b) => a + b, 0))} tokens verified (${String(kids.get(first.kid) ?? 0)} by the old key, ` +
        `${String(kids.get(successor.kid) ?? 0)} by the successor), ${String(verifyFailures.length)} verification failures, ` +
        `${String(exchangeFailures.length)} failed exchanges; follower took the lease ${(takeoverMs / 1000).toFixed(1)} s after the kill; ` +
        `verifier fetched the JWKS ${String(verifier.fetches.length)} times (${verifier.fetches.join(", ")}); keys stored at the end: ${String(final.records.length)}`,
    );
    expect(verifyFailures).toEqual([]);
    expect(exchangeFailures).toEqual([]);
    expect(kids.get(first.kid) ?? 0).toBeGreaterThan(0);
    expect(kids.get(successor.kid) ?? 0).toBeGreaterThan(0);
    // The new leader finished the rotation it inherited instead of starting another.
    expect(final.records.map((r) => r.kid).sort()).toEqual([first.kid, successor.kid].sort());
  }, 400_000);
});
