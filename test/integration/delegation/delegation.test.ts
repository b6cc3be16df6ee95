// Delegation against the real control plane: a workspace's sidecar asks for a grant, the agent's sidecar acts with it
// (real sidecar processes, real projected tokens, pods and TokenPolicies in the apiserver, the issuer with its audit
// half). Every abuse is refused, revoking the grant, deleting the actor's pod or setting revokeBefore stops the next
// exchange at once, and PyJWT reads the act chain.
import { execFile } from "node:child_process";
import http from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  API_GROUP,
  API_VERSION,
  DEFAULT_TESSERA_AUDIENCE,
  GRANT_TYPE_TOKEN_EXCHANGE,
  PATH_REVOKE,
  RESOURCE_TOKEN_POLICIES,
  SIDECAR_GUARD_HEADER,
  SIDECAR_PATH_ACT,
  SIDECAR_PATH_DELEGATION,
  TOKEN_TYPE_JWT,
} from "../../../api/constants.ts";
import type { TokenPolicy } from "../../../api/token-policy.ts";
import { freeLoopbackPorts } from "../../controlplane/ports.ts";
import { loadControlPlaneConfig } from "../../controlplane/config.ts";
import { ensurePythonEnv } from "../../controlplane/python-env.ts";
import { startSidecarProcess, type SidecarProcess } from "../sidecar/sidecar-process.ts";
import { createPod, createServiceAccount, deletePod, freshNamespace, kubeClients, mintProjectedToken, waitFor, writeProjectedTokenFile } from "../support/index.ts";
import { call, exchange } from "../issuer/exchange-harness.ts";
import { createTokenPolicy, startAuditIssuer, type AuditIssuer } from "../issuer/introspect-harness.ts";

const CALENDAR = "https://calendar.internal.example";
const VERIFY_SCRIPT = join(import.meta.dirname, "../issuer/verify_token.py");
const REQUIREMENTS = join(import.meta.dirname, "../issuer/requirements.txt");

function workspacePolicy(namespace: string, agents: string): TokenPolicy {
  return {
    apiVersion: "tessera.dev/v1alpha1",
    kind: "TokenPolicy",
    metadata: { name: "workspace-calendar", namespace },
    spec: {
      owner: { team: "workspaces" },
      subjects: { serviceAccounts: ["workspace"] },
      audiences: [CALENDAR],
      scopes: { allowed: ["calendar.read", "calendar.write"], default: ["calendar.read"] },
      ttlSeconds: 300,
      delegation: {
        actors: [
          { serviceAccount: { namespace: agents, name: "planner" } },
          { serviceAccount: { namespace: agents, name: "summarizer" } },
        ],
        scopes: ["calendar.read"],
        maxChainLength: 2,
      },
    },
  };
}

interface Answer {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

function local(sidecar: SidecarProcess, method: "GET" | "POST", path: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: "127.0.0.1",
        port: sidecar.port,
        path,
        method,
        agent: false,
        headers: {
          host: `127.0.0.1:${sidecar.port}`,
          [SIDECAR_GUARD_HEADER]: "true",
          ...(payload === undefined ? {} : { "content-type": "application/json" }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown> });
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

function claimsOf(token: unknown): Record<string, unknown> {
  return JSON.parse(Buffer.from(String(token).split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
}

describe("delegation through grants, with real sidecars", () => {
  let audit: AuditIssuer;
  let dir: string;
  let users: string;
  let agents: string;
  let workspaceToken: string;
  let plannerToken: string;
  const sidecars: Record<string, SidecarProcess> = {};

  async function startFor(name: string, namespace: string, serviceAccount: string, port: number): Promise<string> {
    await createServiceAccount(namespace, serviceAccount).catch(() => undefined);
    const pod = await createPod(namespace, { name: `${name}-0`, serviceAccountName: serviceAccount });
    const token = await mintProjectedToken({ namespace, serviceAccount, pod, audience: DEFAULT_TESSERA_AUDIENCE });
    const subjectTokenFile = await writeProjectedTokenFile(join(dir, name, "subject"), token);
    const sidecar = startSidecarProcess({ issuerUrl: audit.url, caFile: join(dir, "ca.crt"), subjectTokenFile, tokenDir: join(dir, name), tokens: [], port });
    sidecars[name] = sidecar;
    await waitFor(async () => (await sidecar.get("/healthz").catch(() => ({ status: 0 }))).status === 200, {
      timeoutMs: 30_000,
      description: `the ${name} sidecar to listen`,
    });
    return token;
  }

  const sidecar = (name: string): SidecarProcess => {
    const s = sidecars[name];
    if (s === undefined) throw new Error(`no sidecar ${name}`);
    return s;
  };
  const grantFor = (actor: string, scope = "calendar.read") =>
    local(sidecar("workspace"), "GET", `${SIDECAR_PATH_DELEGATION}?actor=system:serviceaccount:${agents}:${actor}&audience=${encodeURIComponent(CALENDAR)}&scope=${scope}`);
  const act = (who: string, grant: unknown, scope?: string) =>
    local(sidecar(who), "POST", SIDECAR_PATH_ACT, { grant, audience: CALENDAR, ...(scope === undefined ? {} : { scope }) });

  beforeAll(async () => {
    audit = await startAuditIssuer();
    dir = await mkdtemp(join(tmpdir(), "tessera-delegation-it-"));
    await writeFile(join(dir, "ca.crt"), audit.caPem);
    users = await freshNamespace("users");
    agents = await freshNamespace("agents");
    await waitFor(() => createTokenPolicy(workspacePolicy(users, agents)).then(() => true));
    await audit.reloadPolicies();
    const [p1, p2, p3, p4] = await freeLoopbackPorts(4);
    workspaceToken = await startFor("workspace", users, "workspace", p1 ?? 0);
    plannerToken = await startFor("planner", agents, "planner", p2 ?? 0);
    await startFor("intruder", agents, "intruder", p3 ?? 0);
    await startFor("summarizer", agents, "summarizer", p4 ?? 0);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(Object.values(sidecars).map((s) => s.terminate()));
    await audit.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("lets the planner act for the workspace with what was delegated, and shows it in a nested act chain PyJWT reads", async () => {
    const grant = await grantFor("planner");
    expect(grant.status, JSON.stringify(grant.json)).toBe(200);
    expect(claimsOf(grant.json["access_token"])).toMatchObject({ aud: audit.url, scope: "calendar.read", may_act: { sub: `system:serviceaccount:${agents}:planner` } });
    const token = await act("planner", grant.json["access_token"]);
    expect(token.status, JSON.stringify(token.json)).toBe(200);
    const python = await ensurePythonEnv({ cacheDir: loadControlPlaneConfig(process.env).cacheDir, requirementsFile: REQUIREMENTS });
    const caFile = join(dir, "ca.crt");
    const [verified] = await new Promise<{ claims?: Record<string, unknown>; error?: string }[]>((resolve, reject) => {
      const child = execFile(python, [VERIFY_SCRIPT, audit.url, caFile, CALENDAR], (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`verify_token.py failed: ${stderr}`, { cause: error }));
        else resolve(JSON.parse(stdout) as { claims?: Record<string, unknown> }[]);
      });
      child.stdin?.end(JSON.stringify([token.json["access_token"]]));
    });
    expect(verified?.error).toBeUndefined();
    expect(verified?.claims).toMatchObject({
      sub: `system:serviceaccount:${users}:workspace`,
      scope: "calendar.read",
      act: { sub: `system:serviceaccount:${agents}:planner` },
    });
  });

  it("passes the grant on down a chain that cannot be cut", async () => {
    const first = (await grantFor("planner")).json["access_token"];
    const form = {
      grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
      subject_token: String(first),
      subject_token_type: TOKEN_TYPE_JWT,
      actor_token: plannerToken,
      actor_token_type: TOKEN_TYPE_JWT,
      audience: CALENDAR,
      scope: "calendar.read",
      may_act: `system:serviceaccount:${agents}:summarizer`,
    };
    const second = await exchange(audit, form);
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    const token = await act("summarizer", (second.body as Record<string, unknown>)["access_token"]);
    expect(token.status, JSON.stringify(token.json)).toBe(200);
    expect(claimsOf(token.json["access_token"])["act"]).toMatchObject({
      sub: `system:serviceaccount:${agents}:summarizer`,
      act: { sub: `system:serviceaccount:${agents}:planner` },
    });
    // The summarizer cannot leave the planner out by using the planner's grant.
    expect((await act("summarizer", first)).status).toBe(400);
  });

  it.each([
    ["the grant alone, without the actor's identity", async (grant: unknown) => exchange(audit, { grant_type: GRANT_TYPE_TOKEN_EXCHANGE, subject_token: String(grant), subject_token_type: TOKEN_TYPE_JWT, audience: CALENDAR })],
    ["a scope the grant does not carry", async (grant: unknown) => act("planner", grant, "calendar.write")],
    ["another agent using the planner's grant", async (grant: unknown) => act("intruder", grant)],
    ["another agent using the planner's token as a grant", async (grant: unknown) => act("intruder", (await act("planner", grant)).json["access_token"])],
  ])("refuses %s", async (_name, abuse) => {
    const grant = (await grantFor("planner")).json["access_token"];
    const answer = await abuse(grant);
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
  });

  it("refuses a grant for an actor the workspace's policy does not name, and a scope it keeps for itself", async () => {
    expect((await grantFor("intruder")).json).toMatchObject({ tessera_reason: "DelegationNotAllowed" });
    expect((await grantFor("planner", "calendar.write")).json).toMatchObject({ tessera_reason: "DelegationNotAllowed" });
  });

  it("refuses the old flow: the workspace's raw projected token beside the actor's", async () => {
    const answer = await exchange(audit, {
      grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
      subject_token: workspaceToken,
      subject_token_type: TOKEN_TYPE_JWT,
      actor_token: plannerToken,
      actor_token_type: TOKEN_TYPE_JWT,
      audience: CALENDAR,
      scope: "calendar.write",
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: "invalid_request" });
  });

  it("stops the next exchange at once when the grant's jti is revoked", async () => {
    const grant = (await grantFor("planner")).json["access_token"];
    expect((await act("planner", grant)).status).toBe(200);
    const revoke = await call(audit, PATH_REVOKE, {
      method: "POST",
      body: new URLSearchParams({ token: String(grant) }).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Bearer ${audit.auditorToken}` },
    });
    expect(revoke.status, JSON.stringify(revoke.body)).toBe(200);
    const after = await act("planner", grant);
    expect(after.status).toBe(400);
    expect(String(after.json["error_description"])).toContain("revoked");
  });

  it("stops the next exchange at once when the actor's pod is deleted", async () => {
    const grant = (await grantFor("summarizer")).json["access_token"];
    expect((await act("summarizer", grant)).status).toBe(200);
    await deletePod(agents, "summarizer-0");
    const after = await act("summarizer", grant);
    expect(after.status).toBe(400);
    expect(after.json).toMatchObject({ error: "invalid_grant" });
  });
  it("stops the next exchange at once when the workspace's policy sets revokeBefore", async () => {
    const grant = (await grantFor("planner")).json["access_token"];
    expect((await act("planner", grant)).status).toBe(200);
    const iat = Number(claimsOf(grant)["iat"]);
    await kubeClients().custom.patchNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      plural: RESOURCE_TOKEN_POLICIES,
      namespace: users,
      name: "workspace-calendar",
      body: [{ op: "add", path: "/spec/revokeBefore", value: new Date((iat + 1) * 1000).toISOString() }],
    });
    const after = await act("planner", grant);
    expect(after.status).toBe(400);
    expect(String(after.json["error_description"])).toContain("policy-revoked");
  });
});
