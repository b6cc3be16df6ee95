// Two-sided governance against a real apiserver and the real controller process: the audience's owner decides who
// may hold its scopes, operators cannot be bypassed, and every spelling trick is refused.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  API_GROUP,
  API_VERSION,
  DEFAULT_TESSERA_AUDIENCE,
  GRANT_TYPE_TOKEN_EXCHANGE,
  RESOURCE_CLUSTER_TOKEN_POLICIES,
  RESOURCE_TOKEN_AUDIENCES,
  RESOURCE_TOKEN_POLICIES,
  TOKEN_TYPE_JWT,
} from "../../../api/constants.ts";
import type { TokenAudience, TokenAudienceSpec } from "../../../api/token-audience.ts";
import type { ClusterTokenPolicy, ClusterTokenPolicySpec, TokenPolicy, TokenPolicySpec } from "../../../api/token-policy.ts";
import { exchange, type HttpAnswer } from "../issuer/exchange-harness.ts";
import { createPod, createServiceAccount, freshNamespace, mintProjectedToken, waitFor } from "../support/index.ts";
import { startGovernanceStack, type GovernanceStack } from "./stack.ts";

const ORDERS = "https://orders.team-a.example";
const PARTNER = "https://partner.example";
const DEPLOY = "https://deploy.example";

let stack: GovernanceStack;
let scratch: string;
let teamA: string;
let teamB: string;
let billingToken: string;

function custom() {
  return stack.clients.custom;
}

async function createTokenPolicy(namespace: string, name: string, spec: Partial<TokenPolicySpec>): Promise<void> {
  const body: TokenPolicy = {
    apiVersion: "tessera.dev/v1alpha1",
    kind: "TokenPolicy",
    metadata: { name, namespace },
    spec: { owner: { team: "billing" }, subjects: { serviceAccounts: ["billing"] }, audiences: [ORDERS], ...spec },
  };
  await custom().createNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: RESOURCE_TOKEN_POLICIES, body });
}

async function createClusterPolicy(name: string, spec: Partial<ClusterTokenPolicySpec>): Promise<void> {
  const body: ClusterTokenPolicy = { apiVersion: "tessera.dev/v1alpha1", kind: "ClusterTokenPolicy", metadata: { name }, spec: { owner: { team: "platform" }, ...spec } };
  await custom().createClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: RESOURCE_CLUSTER_TOKEN_POLICIES, body });
}

function contractBody(namespace: string, name: string, spec: Partial<TokenAudienceSpec>): TokenAudience {
  return {
    apiVersion: "tessera.dev/v1alpha1",
    kind: "TokenAudience",
    metadata: { name, namespace },
    spec: {
      audience: ORDERS,
      owner: { team: "orders", contact: "#orders-oncall" },
      scopes: [
        { name: "orders.read", description: "read orders" },
        { name: "orders.write", description: "create and change orders" },
      ],
      callers: [],
      ...spec,
    },
  };
}

async function applyContract(namespace: string, name: string, spec: Partial<TokenAudienceSpec>): Promise<void> {
  const body = contractBody(namespace, name, spec);
  try {
    await custom().createNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: RESOURCE_TOKEN_AUDIENCES, body });
  } catch {
    await custom().patchNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace,
      plural: RESOURCE_TOKEN_AUDIENCES,
      name,
      body: [{ op: "replace", path: "/spec", value: body.spec }],
    });
  }
}

async function contractCondition(namespace: string, name: string, type: string): Promise<{ status?: string; reason?: string } | undefined> {
  const obj = (await custom().getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: RESOURCE_TOKEN_AUDIENCES, name })) as TokenAudience;
  return obj.status?.conditions?.find((c) => c.type === type);
}

function ask(audience: string, scope?: string, headers: Readonly<Record<string, string>> = {}): Promise<HttpAnswer> {
  return exchange(
    stack.issuer,
    {
      grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
      subject_token: billingToken,
      subject_token_type: TOKEN_TYPE_JWT,
      audience,
      ...(scope === undefined ? {} : { scope }),
    },
    headers,
  );
}

/** A DPoP proof (RFC 9449) for the issuer's token endpoint, signed by a fresh key; returns it with the key's thumbprint. */
async function tokenEndpointProof(): Promise<{ readonly proof: string; readonly jkt: string }> {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = await exportJWK(publicKey);
  const proof = await new SignJWT({ htm: "POST", htu: `${stack.issuer.url}/v1/token`, iat: Math.floor(Date.now() / 1000), jti: randomUUID() })
    .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk })
    .sign(privateKey);
  return { proof, jkt: await calculateJwkThumbprint(jwk) };
}

/** "200 orders.read" (the minted token's scope claim), or "403 access_denied", from an exchange answer. */
function outcome(answer: HttpAnswer): string {
  const body = answer.body as { access_token?: string; error?: string };
  if (answer.status !== 200) return `${answer.status} ${body.error ?? ""}`;
  const payload = JSON.parse(Buffer.from((body.access_token ?? "").split(".")[1] ?? "", "base64url").toString("utf8")) as { scope?: string };
  return `200 ${payload.scope ?? ""}`.trim();
}

function description(answer: HttpAnswer): string {
  return (answer.body as { error_description?: string }).error_description ?? "";
}

/** The controller follows the cluster through watches: retry until the answer is the expected one. */
async function expectEventually(run: () => Promise<HttpAnswer>, expected: string): Promise<HttpAnswer> {
  let last: HttpAnswer | undefined;
  await waitFor(
    async () => {
      last = await run();
      return outcome(last) === expected;
    },
    { timeoutMs: 20_000, description: `an exchange answering ${expected}` },
  ).catch(() => undefined);
  if (last === undefined) throw new Error("no exchange answered");
  expect(outcome(last), description(last)).toBe(expected);
  return last;
}

async function refusal(create: () => Promise<unknown>): Promise<string> {
  try {
    await create();
  } catch (error) {
    const body = (error as { body?: unknown }).body;
    return typeof body === "string" ? body : JSON.stringify(body ?? error);
  }
  throw new Error("the apiserver accepted what it should have refused");
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "tessera-governance-"));
  stack = await startGovernanceStack(scratch);
  teamA = await freshNamespace("team-a", { team: "orders" }, stack.clients);
  teamB = await freshNamespace("team-b", { team: "billing" }, stack.clients);
  await createServiceAccount(teamB, "billing", stack.clients);
  const pod = await createPod(teamB, { name: "billing-0", serviceAccountName: "billing" }, stack.clients);
  billingToken = await mintProjectedToken({ namespace: teamB, serviceAccount: "billing", pod, audience: DEFAULT_TESSERA_AUDIENCE }, stack.clients);
  // team-b's own policy asks for team-a's audience with any scope it likes: the squatting attempt.
  await createTokenPolicy(teamB, "orders-please", {
    scopes: { allowed: ["orders.read", "orders.write", "admin"], default: ["orders.read", "orders.write"] },
  });
}, 240_000);

afterAll(async () => {
  await stack.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe("the audience's owner decides who may hold its scopes", () => {
  it("team-b gets no token for an audience nobody owns, with any scope", async () => {
    for (const scope of ["orders.read", "orders.write", "admin", undefined]) {
      const answer = await expectEventually(() => ask(ORDERS, scope), "400 invalid_target");
      expect(description(answer)).toContain(`nobody owns audience '${ORDERS}'`);
    }
  });

  it("once an operator assigns it to team-a, team-a's contract decides, and it admits nobody from team-b", async () => {
    await createClusterPolicy("orders-owner", {
      audienceOwnership: [{ audiences: [ORDERS], ownedBy: "Namespaces", namespaceSelector: { matchLabels: { team: "orders" } } }],
    });
    await applyContract(teamA, "orders", {});
    for (const scope of ["orders.read", "orders.write", "admin"]) {
      const answer = await expectEventually(() => ask(ORDERS, scope), "403 access_denied");
      expect(description(answer)).toContain(`TokenAudience ${teamA}/orders (team orders, contact #orders-oncall)`);
    }
    await waitFor(async () => (await contractCondition(teamA, "orders", "Owner"))?.status === "True", { description: "team-a's contract Owner=True" });
  });

  it("a contract team-b publishes for team-a's audience is ignored, and its status says why", async () => {
    await applyContract(teamB, "mine-now", { callers: [{ name: "me", namespaceSelector: {}, scopes: ["orders.write"] }] });
    await waitFor(async () => (await contractCondition(teamB, "mine-now", "Owner"))?.reason === "NotAssigned", { description: "team-b's contract NotAssigned" });
    await expectEventually(() => ask(ORDERS, "orders.write"), "403 access_denied");
  });

  it("after team-a admits team-b for orders.read only, team-b gets orders.read and never orders.write", async () => {
    await applyContract(teamA, "orders", {
      callers: [{ name: "billing-reads", serviceAccounts: [{ namespace: teamB, name: "billing" }], scopes: ["orders.read"] }],
    });
    await expectEventually(() => ask(ORDERS, "orders.read"), "200 orders.read");
    const write = await ask(ORDERS, "orders.write");
    expect(outcome(write)).toBe("403 access_denied");
    expect(description(write)).toContain("orders.read only");
    // The defaults ask for both: the owner's side narrows them to what it admits.
    expect(outcome(await ask(ORDERS))).toBe("200 orders.read");
  });

  it("a scope no contract defines is never granted", async () => {
    const answer = await ask(ORDERS, "admin");
    expect(outcome(answer)).toBe("403 access_denied");
    expect(description(answer)).toContain("does not define it");
  });

  it("once team-a's contract requires DPoP, team-b gets orders.read only as a token bound to its key, though its own policy does not ask", async () => {
    await applyContract(teamA, "orders", {
      callers: [{ name: "billing-reads", serviceAccounts: [{ namespace: teamB, name: "billing" }], scopes: ["orders.read"] }],
      requireDPoP: true,
    });
    const refused = await expectEventually(() => ask(ORDERS, "orders.read"), "400 invalid_dpop_proof");
    expect(description(refused)).toContain(`TokenAudience ${teamA}/orders (team orders, contact #orders-oncall) allows ${ORDERS} only as DPoP-bound tokens`);
    const { proof, jkt } = await tokenEndpointProof();
    const bound = await ask(ORDERS, "orders.read", { dpop: proof });
    const body = bound.body as { access_token?: string; token_type?: string };
    expect([bound.status, body.token_type], description(bound)).toEqual([200, "DPoP"]);
    expect(decodeJwt(body.access_token ?? "")["cnf"]).toEqual({ jkt });
    // The owner lifts its requirement: a bearer token may be issued again.
    await applyContract(teamA, "orders", {
      callers: [{ name: "billing-reads", serviceAccounts: [{ namespace: teamB, name: "billing" }], scopes: ["orders.read"] }],
    });
    await expectEventually(() => ask(ORDERS, "orders.read"), "200 orders.read");
  });

  it("every spelling of the audience reaches the same owner", async () => {
    for (const spelling of [`${ORDERS}/`, "HTTPS://ORDERS.TEAM-A.EXAMPLE", `${ORDERS}:443`]) {
      expect(outcome(await ask(spelling, "orders.write")), spelling).toBe("403 access_denied");
      expect(outcome(await ask(spelling, "orders.read")), spelling).toBe("200 orders.read");
    }
  });
});

describe("operators", () => {
  it("an unowned external audience is denied until an operator opens it", async () => {
    await createTokenPolicy(teamB, "partner", { audiences: [PARTNER], scopes: { allowed: ["partner.sync"] } });
    await expectEventually(() => ask(PARTNER, "partner.sync"), "400 invalid_target");
    await createClusterPolicy("partner-open", { audienceOwnership: [{ audiences: [PARTNER], ownedBy: "Open" }] });
    await expectEventually(() => ask(PARTNER, "partner.sync"), "200 partner.sync");
  });

  it("a ClusterTokenPolicy's condition cannot be bypassed by writing a TokenPolicy", async () => {
    await createClusterPolicy("deploy-owner", { audienceOwnership: [{ audiences: [DEPLOY], ownedBy: "Open" }] });
    await createClusterPolicy("approved-deployers", {
      subjects: { namespaceSelector: {}, serviceAccounts: ["billing"] },
      audiences: [DEPLOY],
      conditions: [{ name: "approved", expression: 'pod.labels["approved"] == "true"', message: "only approved pods deploy" }],
    });
    await createTokenPolicy(teamB, "deploy-myself", { audiences: [DEPLOY] });
    const answer = await expectEventually(() => ask(DEPLOY), "403 access_denied");
    expect(description(answer)).toContain("condition 'approved' failed");
  });
});

describe("admission refuses what can never be right", () => {
  it.each([`${ORDERS}/`, "HTTPS://ORDERS.TEAM-A.EXAMPLE", `${ORDERS}:443`])("a TokenPolicy spelling its audience as %s", async (audience) => {
    const message = await refusal(() => createTokenPolicy(teamB, `spelling-${Math.random().toString(36).slice(2, 8)}`, { audiences: [audience] }));
    expect(message).toContain(`canonical form '${ORDERS}'`);
  });

  it("a TokenAudience spelling its audience non-canonically", async () => {
    const body = contractBody(teamA, "spelled", { audience: `${ORDERS}/` });
    const message = await refusal(() =>
      custom().createNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: teamA, plural: RESOURCE_TOKEN_AUDIENCES, body }),
    );
    expect(message).toContain(`canonical form '${ORDERS}'`);
  });

  it.each(["acr", "AMR", "azp", "scp", "permissions", "Groups", "realm_access", "__proto__", "constructor"])(
    "a TokenPolicy setting claim %s",
    async (name) => {
      const message = await refusal(() =>
        createTokenPolicy(teamB, `claim-${name.toLowerCase().replace(/_/g, "")}`, { claims: [{ name, expression: '"x"' }] }),
      );
      expect(message).toMatch(/set by the issuer|ClusterTokenPolicy may grant|refused/);
    },
  );
});
