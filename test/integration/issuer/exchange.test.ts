// Token exchange against the real control plane: projected tokens from TokenRequest, pods in the apiserver, the real engine.
import { createHmac, createPublicKey } from "node:crypto";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from "jose";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLAIM_NAMESPACE,
  CLAIM_POD,
  CLAIM_POLICY,
  DEFAULT_TESSERA_AUDIENCE,
  GRANT_TYPE_TOKEN_EXCHANGE,
  TOKEN_TYPE_ACCESS_TOKEN,
  TOKEN_TYPE_JWT,
} from "../../../api/constants.ts";
import type { OAuthErrorResponse, TokenExchangeResponse } from "../../../api/exchange.ts";
import type { TokenPolicy } from "../../../api/token-policy.ts";
import { IssuerMetrics } from "../../../controller/src/issuer/metrics.ts";
import {
  controlPlaneInfo,
  createPod,
  createServiceAccount,
  deletePod,
  freshNamespace,
  mintProjectedToken,
} from "../support/index.ts";
import { call, exchange, startTestIssuer, type TestIssuer } from "./exchange-harness.ts";

function policy(namespace: string, spec: Partial<TokenPolicy["spec"]> = {}): TokenPolicy {
  return {
    apiVersion: "tessera.dev/v1alpha1",
    kind: "TokenPolicy",
    metadata: { name: "api", namespace, generation: 2 },
    spec: {
      owner: { team: "payments" },
      subjects: { serviceAccounts: ["api"] },
      audiences: ["payments"],
      scopes: { allowed: ["read", "write"], default: ["read"] },
      ttlSeconds: 300,
      claims: [{ name: "tenant", expression: 'namespace.labels["tenant"]' }],
      ...spec,
    },
  };
}

interface Workload {
  readonly namespace: string;
  readonly podName: string;
  readonly token: string;
}

async function workload(namespace: string, serviceAccount: string, podName: string, audience = DEFAULT_TESSERA_AUDIENCE): Promise<Workload> {
  await createServiceAccount(namespace, serviceAccount).catch(() => undefined);
  const pod = await createPod(namespace, { name: podName, serviceAccountName: serviceAccount });
  const token = await mintProjectedToken({ namespace, serviceAccount, pod, audience });
  return { namespace, podName, token };
}

function form(subject: string, extra: Record<string, string | string[]> = {}): Record<string, string | string[]> {
  return {
    grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
    subject_token: subject,
    subject_token_type: TOKEN_TYPE_JWT,
    audience: "payments",
    ...extra,
  };
}

describe("token exchange against the real control plane", () => {
  let issuer: TestIssuer;
  let shop: string;
  let agents: string;
  let api: Workload;

  beforeAll(async () => {
    shop = await freshNamespace("shop", { tenant: "acme" });
    agents = await freshNamespace("agents");
    issuer = await startTestIssuer({
      policies: [
        policy(shop, {
          delegation: { actors: [{ serviceAccount: { namespace: agents, name: "planner" } }], maxChainLength: 1 },
        }),
      ],
    });
    api = await workload(shop, "api", "api-0");
  });

  afterAll(async () => {
    await issuer.stop();
  });

  it("exchanges a real projected token for an at+jwt that verifies against the published JWKS", async () => {
    const answer = await exchange(issuer, form(api.token, { scope: "read" }));
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.headers["cache-control"]).toBe("no-store");
    const body = answer.body as TokenExchangeResponse;
    expect(body).toMatchObject({ issued_token_type: TOKEN_TYPE_ACCESS_TOKEN, token_type: "Bearer", expires_in: 300 });
    expect(decodeProtectedHeader(body.access_token).typ).toBe("at+jwt");

    const discovery = (await call(issuer, "/.well-known/openid-configuration")).body as { jwks_uri: string; issuer: string };
    expect(discovery.issuer).toBe(issuer.url);
    const jwksAnswer = await call(issuer, new URL(discovery.jwks_uri).pathname);
    expect(jwksAnswer.headers["cache-control"]).toMatch(/max-age=/);
    const jwks = jwksAnswer.body as { keys: unknown[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    const { payload } = await jwtVerify(body.access_token, createLocalJWKSet(jwks as JSONWebKeySet), {
      issuer: issuer.url,
      audience: "payments",
      typ: "at+jwt",
    });
    expect(payload).toMatchObject({
      sub: `system:serviceaccount:${shop}:api`,
      scope: "read",
      tenant: "acme",
      [CLAIM_NAMESPACE]: shop,
      [CLAIM_POLICY]: { kind: "TokenPolicy", namespace: shop, name: "api", generation: 2 },
    });
    expect((payload[CLAIM_POD] as { name: string }).name).toBe("api-0");
    expect(issuer.decisions.at(-1)?.jti).toBe(payload.jti);
  });

  it("grants the policy's default scopes and says so when the request names none", async () => {
    const answer = await exchange(issuer, form(api.token));
    expect(answer.status).toBe(200);
    expect((answer.body as TokenExchangeResponse).scope).toBe("read");
  });

  it("refuses a projected token for another audience", async () => {
    const wrong = await workload(shop, "api", "api-wrong-aud", "https://kubernetes.default.svc");
    const answer = await exchange(issuer, form(wrong.token));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: "invalid_grant" });
    expect((answer.body as OAuthErrorResponse).error_description).toContain(DEFAULT_TESSERA_AUDIENCE);
  });

  it("refuses an expired projected token", async () => {
    issuer.setClockOffset(2 * 3600 * 1000);
    try {
      const answer = await exchange(issuer, form(api.token));
      expect(answer.body).toMatchObject({ error: "invalid_grant" });
      expect((answer.body as OAuthErrorResponse).error_description).toContain("expired");
    } finally {
      issuer.setClockOffset(0);
    }
  });

  it("refuses forgeries: alg none and HS256 keyed with the cluster's public key", async () => {
    const [header, payload] = api.token.split(".") as [string, string, string];
    const kid = (JSON.parse(Buffer.from(header, "base64url").toString()) as { kid: string }).kid;
    const none = `${Buffer.from(JSON.stringify({ alg: "none", kid })).toString("base64url")}.${payload}.`;
    expect((await exchange(issuer, form(none))).body).toMatchObject({ error: "invalid_grant" });
    const info = controlPlaneInfo();
    const jwks = (await fetchClusterJwks(info.apiserverUrl, info.caPem)) as { keys: ({ kid: string } & Record<string, unknown>)[] };
    const jwk = jwks.keys.find((k) => k.kid === kid);
    const pem = createPublicKey({ key: jwk as never, format: "jwk" }).export({ type: "spki", format: "pem" });
    const input = `${Buffer.from(JSON.stringify({ alg: "HS256", kid })).toString("base64url")}.${payload}`;
    const forged = `${input}.${createHmac("sha256", pem).update(input).digest("base64url")}`;
    const answer = await exchange(issuer, form(forged));
    expect(answer.body).toMatchObject({ error: "invalid_grant" });
    expect((answer.body as OAuthErrorResponse).error_description).toContain("algorithm");
  });

  it("refuses a Tessera access token presented as the subject token", async () => {
    const minted = (await exchange(issuer, form(api.token))).body as TokenExchangeResponse;
    const answer = await exchange(issuer, form(minted.access_token));
    expect(answer.body).toMatchObject({ error: "invalid_grant" });
    expect((answer.body as OAuthErrorResponse).error_description).toContain("access token");
  });

  it("refuses the token of a deleted pod at once", async () => {
    const doomed = await workload(shop, "api", "api-doomed");
    expect((await exchange(issuer, form(doomed.token))).status).toBe(200);
    await deletePod(shop, "api-doomed");
    const answer = await exchange(issuer, form(doomed.token));
    expect(answer.body).toMatchObject({ error: "invalid_grant" });
    expect((answer.body as OAuthErrorResponse).error_description).toContain("does not exist");
  });

  it("denies a pod of another namespace that the namespaced policy does not reach", async () => {
    const elsewhere = await freshNamespace("elsewhere");
    const other = await workload(elsewhere, "api", "api-0");
    const answer = await exchange(issuer, form(other.token));
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({ error: "access_denied", tessera_reason: "NoMatchingPolicy" });
    expect((answer.body as OAuthErrorResponse).tessera_decision_id).toBe(issuer.decisions.at(-1)?.decision.id);
  });

  it("answers invalid_scope for a scope the policy does not allow", async () => {
    const answer = await exchange(issuer, form(api.token, { scope: "admin" }));
    expect(answer.body).toMatchObject({ error: "invalid_scope", tessera_reason: "ScopeNotAllowed" });
  });

  it("answers invalid_target for an audience the policy does not allow", async () => {
    const answer = await exchange(issuer, form(api.token, { audience: "ledger" }));
    expect(answer.body).toMatchObject({ error: "invalid_target", tessera_reason: "AudienceNotAllowed" });
  });

  it("issues a delegated token with act through a grant the workload asked for, with the actor proving itself", async () => {
    const planner = await workload(agents, "planner", "planner-0");
    const grant = await exchange(issuer, form(api.token, { may_act: `system:serviceaccount:${agents}:planner` }));
    expect(grant.status, JSON.stringify(grant.body)).toBe(200);
    const grantToken = (grant.body as TokenExchangeResponse).access_token;
    const answer = await exchange(issuer, form(grantToken, { actor_token: planner.token, actor_token_type: TOKEN_TYPE_JWT }));
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const claims = JSON.parse(
      Buffer.from((answer.body as TokenExchangeResponse).access_token.split(".")[1] ?? "", "base64url").toString(),
    ) as { act?: { sub: string } };
    expect(claims.act?.sub).toBe(`system:serviceaccount:${agents}:planner`);
  });

  it("denies a grant for an actor the policy does not name", async () => {
    const answer = await exchange(issuer, form(api.token, { may_act: `system:serviceaccount:${agents}:intruder` }));
    expect(answer.body).toMatchObject({ error: "access_denied", tessera_reason: "DelegationNotAllowed" });
  });

  it("refuses an actor whose pod is gone with invalid_grant", async () => {
    const planner = await workload(agents, "planner", "planner-gone");
    await deletePod(agents, "planner-gone");
    const grant = (await exchange(issuer, form(api.token, { may_act: `system:serviceaccount:${agents}:planner` }))).body as TokenExchangeResponse;
    const answer = await exchange(issuer, form(grant.access_token, { actor_token: planner.token, actor_token_type: TOKEN_TYPE_JWT }));
    expect(answer.body).toMatchObject({ error: "invalid_grant" });
    expect((answer.body as OAuthErrorResponse).error_description).toMatch(/^actor_token: /);
  });

  it("answers malformed requests with OAuth errors, never a 500", async () => {
    const plain = await call(issuer, "/v1/token", { method: "POST", body: "x", headers: { "content-type": "text/plain" } });
    expect(plain.status).toBe(400);
    expect(plain.body).toMatchObject({ error: "invalid_request" });
    const big = await call(issuer, "/v1/token", {
      method: "POST",
      body: `a=${"x".repeat(70 * 1024)}`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(big.status).toBe(413);
    const get = await call(issuer, "/v1/token");
    expect(get.status).toBe(405);
    const garbage = await exchange(issuer, { grant_type: GRANT_TYPE_TOKEN_EXCHANGE, subject_token: "a.b.c", subject_token_type: TOKEN_TYPE_JWT, audience: "x" });
    expect(garbage.status).toBe(400);
    expect(garbage.body).toMatchObject({ error: "invalid_grant" });
  });
});

describe("token exchange in TokenReview mode", () => {
  it("accepts a live pod's token and refuses it once the pod is gone", async () => {
    const ns = await freshNamespace("review", { tenant: "acme" });
    const issuer = await startTestIssuer({ policies: [policy(ns)], subjectVerification: "tokenreview" });
    try {
      const api = await workload(ns, "api", "api-0");
      expect((await exchange(issuer, form(api.token))).status).toBe(200);
      await deletePod(ns, "api-0");
      const answer = await exchange(issuer, form(api.token));
      expect(answer.body).toMatchObject({ error: "invalid_grant" });
    } finally {
      await issuer.stop();
    }
  });
});

describe("exchanges per pod", () => {
  it("answers a looping pod 429 with Retry-After once it spends its burst, while another pod keeps exchanging", async () => {
    const ns = await freshNamespace("rate", { tenant: "acme" });
    // 0.01 a second: no token comes back during the test, so the counts are exact.
    const issuer = await startTestIssuer({ policies: [policy(ns)], exchangeRate: { perSecond: 0.01, burst: 5 } });
    try {
      const noisy = await workload(ns, "api", "api-0");
      const quiet = await workload(ns, "api", "api-1");
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await exchange(issuer, form(noisy.token))).status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(5);
      expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
      const refused = await exchange(issuer, form(noisy.token));
      expect(refused).toMatchObject({ status: 429, body: { error: "temporarily_unavailable" } });
      expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(90);
      expect((await exchange(issuer, form(quiet.token))).status).toBe(200);
      // Refusals are made before the policy is asked: only the allowed exchanges left a decision.
      expect(issuer.decisions).toHaveLength(6);
    } finally {
      await issuer.stop();
    }
  });
});

async function fetchClusterJwks(apiserverUrl: string, caPem: string): Promise<unknown> {
  const { createHttpsJsonFetcher } = await import("../../../controller/src/issuer/subject/fetch-json.ts");
  return createHttpsJsonFetcher({ ca: caPem })(`${apiserverUrl}/openid/v1/jwks`);
}

describe("the issuer's own limits and measurements", () => {
  let issuer: TestIssuer;
  let registry: Registry;
  let api: Workload;

  beforeAll(async () => {
    const ns = await freshNamespace("limits", { tenant: "acme" });
    registry = new Registry();
    // The harness caps tokens at 3600 s; this policy asks for two hours.
    issuer = await startTestIssuer({ policies: [policy(ns, { ttlSeconds: 7200 })], metrics: new IssuerMetrics({ registry }) });
    api = await workload(ns, "api", "api-0");
  });

  afterAll(async () => {
    await issuer.stop();
  });

  it("clamps a policy TTL beyond the issuer's maximum token TTL and records the clamp", async () => {
    const answer = await exchange(issuer, form(api.token, { scope: "read" }));
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect((answer.body as TokenExchangeResponse).expires_in).toBe(3600);
    const recorded = issuer.decisions.at(-1)?.decision;
    expect(recorded?.allowed === true && recorded.grant.clamps).toContain("ttl clamped from 7200s to 3600s by the issuer's maximum token lifetime");
  });

  it("times every exchange into tessera_issuance_duration_seconds, labelled by outcome", async () => {
    expect((await exchange(issuer, form(api.token, { scope: "read" }))).status).toBe(200);
    expect((await exchange(issuer, form(api.token, { scope: "admin" }))).status).toBe(400);
    expect((await exchange(issuer, form("a.b.c"))).status).toBe(400);
    const text = await registry.getSingleMetricAsString("tessera_issuance_duration_seconds");
    const counts = new Map([...text.matchAll(/^tessera_issuance_duration_seconds_count\{outcome="(\w+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
    expect(counts.get("allowed")).toBeGreaterThanOrEqual(2);
    expect(counts.get("denied")).toBe(1);
    expect(counts.get("error")).toBe(1);
  });
});
