// The exchange pipeline end to end in memory: verified subject, pod binding, a tiny decider, minting, OAuth errors.
import fc from "fast-check";
import { createLocalJWKSet, jwtVerify } from "jose";
import type { Logger } from "pino";
import { describe, expect, it } from "vitest";
import {
  GRANT_TYPE_TOKEN_EXCHANGE,
  K8S_TOKEN_CLAIM,
  TOKEN_TYPE_ACCESS_TOKEN,
  TOKEN_TYPE_JWT,
} from "../../../../api/constants.ts";
import type { OAuthErrorResponse, TokenExchangeResponse } from "../../../../api/exchange.ts";
import type { Decider, DecideInput } from "../../../../controller/src/issuer/exchange/decider.ts";
import { createTokenExchange, type ExchangeOutcome } from "../../../../controller/src/issuer/exchange/exchange.ts";
import { IssuerError } from "../../../../controller/src/issuer/errors.ts";
import { generateKeyRecord, loadSigningKey } from "../../../../controller/src/issuer/keys/keys.ts";
import { PodRateLimiter } from "../../../../controller/src/issuer/exchange/pod-rate-limit.ts";
import type { NamespaceInfo, PodInfo, PodLookup } from "../../../../controller/src/issuer/subject/pod-lookup.ts";
import { JwksSubjectVerifier, type SubjectVerifier } from "../../../../controller/src/issuer/subject/subject-verifier.ts";
import { TokenReviewSubjectVerifier } from "../../../../controller/src/issuer/subject/token-review-verifier.ts";
import type { Decision, DenialReason } from "../../../../controller/src/policy/types.ts";
import {
  keySetOf,
  NOW,
  projectedClaims,
  rsaClusterKey,
  RULES,
  signToken,
  silentLogger,
  TESSERA_ISSUER,
} from "../fixtures.ts";
import { captureLogger } from "../capture-logger.ts";

const clusterKey = rsaClusterKey();
const LIVE = { inactiveReason: () => Promise.resolve(undefined) };
const signingKey = loadSigningKey(generateKeyRecord("ES256", NOW, NOW));

const POD: PodInfo = {
  namespace: "shop",
  name: "api-0",
  uid: "pod-uid-1",
  serviceAccountName: "api",
  labels: { app: "api" },
  annotations: {},
  nodeName: "node-a",
  phase: "Running",
};
const AGENT: PodInfo = { ...POD, namespace: "agents", name: "planner-0", uid: "pod-uid-2", serviceAccountName: "planner" };

/** A test policy: audience "payments" with scopes read/write for shop/api, delegation to agents/planner only. */
const testDecider: Decider = {
  decide({ subject, request, id, now }: DecideInput): Decision {
    const common = { id, at: now.toISOString(), subject, request, evaluations: [], audiences: [] };
    const deny = (reason: DenialReason, message: string): Decision => ({ ...common, allowed: false, reason, message, deniedBy: "caller" });
    if (subject.serviceAccount.name !== "api") return deny("NoMatchingPolicy", "no policy selects this service account");
    if (!request.audiences.every((a) => a === "payments")) return deny("AudienceNotAllowed", "audience not allowed");
    if (!request.scopes.every((s) => s === "read" || s === "write")) return deny("ScopeNotAllowed", "scope not allowed");
    // Only the current actor is used for access control (RFC 8693 section 4.1).
    const actor = subject.actors[0];
    if (actor !== undefined && actor.serviceAccount?.name !== "planner") return deny("DelegationNotAllowed", "actor not allowed");
    return {
      ...common,
      allowed: true,
      policy: { kind: "TokenPolicy", namespace: "shop", name: "api", generation: 1 },
      grant: {
        audiences: request.audiences,
        scopes: request.scopes.length === 0 ? ["read"] : request.scopes,
        ttlSeconds: 300,
        claims: { tenant: "acme" },
        clamps: [],
      },
    };
  },
};

function setup(
  pods: PodInfo[] = [POD, AGENT],
  namespaces: NamespaceInfo[] = [{ name: "shop", labels: {} }],
  verifier: SubjectVerifier = new JwksSubjectVerifier({ rules: RULES, keys: keySetOf(clusterKey), now: () => NOW }),
  rateLimiter?: PodRateLimiter,
  logger: Logger = silentLogger,
) {
  const recorded: { decision: Decision; jti?: string }[] = [];
  let n = 0;
  const exchange = createTokenExchange({
    verifier,
    pods: podLookupOf(pods),
    namespaces: { get: (name) => namespaces.find((ns) => ns.name === name) },
    decider: testDecider,
    keys: { current: () => signingKey, verificationKey: (kid) => (kid === signingKey.kid ? signingKey : undefined) },
    recorder: { record: (decision, outcome) => recorded.push({ decision, ...outcome }) },
    cluster: { name: "eu-1", environment: "prod" },
    issuer: TESSERA_ISSUER,
    serviceAccountIssuer: RULES.issuer,
    liveness: LIVE,
    now: () => NOW,
    newId: () => `d-${++n}`,
    logger,
    ...(rateLimiter === undefined ? {} : { rateLimiter }),
  });
  return { exchange, recorded };
}

function podLookupOf(pods: PodInfo[]): PodLookup {
  return { get: (ns, name) => pods.find((p) => p.namespace === ns && p.name === name) };
}

const subjectToken = signToken(clusterKey, projectedClaims());
const agentToken = signToken(
  clusterKey,
  projectedClaims({
    sub: "system:serviceaccount:agents:planner",
    [K8S_TOKEN_CLAIM]: { namespace: "agents", pod: { name: "planner-0", uid: "pod-uid-2" }, serviceaccount: { name: "planner", uid: "sa-2" } },
  }),
);

function body(params: Record<string, string | string[]> = {}): string {
  const all: Record<string, string | string[]> = {
    grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
    subject_token: subjectToken,
    subject_token_type: TOKEN_TYPE_JWT,
    audience: "payments",
    ...params,
  };
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(all)) {
    const values: readonly string[] = typeof value === "string" ? [value] : value;
    for (const v of values) form.append(key, v);
  }
  return form.toString();
}

function ok(outcome: ExchangeOutcome): TokenExchangeResponse {
  expect(outcome.status).toBe(200);
  return outcome.body as TokenExchangeResponse;
}

function err(outcome: ExchangeOutcome): OAuthErrorResponse {
  expect(outcome.status).not.toBe(200);
  return outcome.body as OAuthErrorResponse;
}

describe("token exchange", () => {
  it("issues an access token for a verified, bound pod and records the decision with its jti", async () => {
    const { exchange, recorded } = setup();
    const response = ok(await exchange(body({ scope: "read" })));
    expect(response).toMatchObject({ issued_token_type: TOKEN_TYPE_ACCESS_TOKEN, token_type: "Bearer", expires_in: 300 });
    expect(response).not.toHaveProperty("scope");
    const { payload } = await jwtVerify(response.access_token, createLocalJWKSet({ keys: [{ ...signingKey.publicJwk }] }), {
      issuer: TESSERA_ISSUER,
      audience: "payments",
      typ: "at+jwt",
      currentDate: NOW,
    });
    expect(payload.sub).toBe("system:serviceaccount:shop:api");
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ decision: { allowed: true, id: "d-1" }, jti: "d-1" });
    expect(payload.jti).toBe("d-1");
  });

  it("returns the granted scope when it differs from the request", async () => {
    const { exchange } = setup();
    expect(ok(await exchange(body())).scope).toBe("read");
  });

  it("echoes requested_token_type jwt as the issued type", async () => {
    const { exchange } = setup();
    expect(ok(await exchange(body({ requested_token_type: TOKEN_TYPE_JWT }))).issued_token_type).toBe(TOKEN_TYPE_JWT);
  });

  it.each<[string, Record<string, string>, string, string]>([
    ["an audience the policy does not allow", { audience: "ledger" }, "invalid_target", "AudienceNotAllowed"],
    ["a scope the policy does not allow", { scope: "admin" }, "invalid_scope", "ScopeNotAllowed"],
  ])("maps a denial for %s to %s with the reason and decision id", async (_name, params, error, reason) => {
    const { exchange, recorded } = setup();
    const outcome = await exchange(body(params));
    expect(outcome.status).toBe(400);
    expect(err(outcome)).toMatchObject({ error, tessera_reason: reason, tessera_decision_id: "d-1" });
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ decision: { allowed: false, reason } });
    expect(recorded[0]).not.toHaveProperty("jti");
  });

  it("answers access_denied with 403 when no policy matches", async () => {
    const other = signToken(
      clusterKey,
      projectedClaims({
        sub: "system:serviceaccount:shop:web",
        [K8S_TOKEN_CLAIM]: { namespace: "shop", pod: { name: "web-0", uid: "pod-uid-3" }, serviceaccount: { name: "web", uid: "sa-3" } },
      }),
    );
    const { exchange } = setup([{ ...POD, name: "web-0", uid: "pod-uid-3", serviceAccountName: "web" }]);
    const outcome = await exchange(body({ subject_token: other }));
    expect(outcome.status).toBe(403);
    expect(err(outcome)).toMatchObject({ error: "access_denied", tessera_reason: "NoMatchingPolicy" });
  });

  it.each<[string, PodInfo[], string]>([
    ["the pod is deleted", [], "does not exist"],
    ["the pod was recreated with another uid", [{ ...POD, uid: "pod-uid-9" }], "recreated"],
    ["the pod runs as another service account", [{ ...POD, serviceAccountName: "admin" }], "runs as service account admin"],
    ["the pod is terminating", [{ ...POD, deletionTimestamp: NOW.toISOString() }], "terminating"],
    ["the pod has finished", [{ ...POD, phase: "Succeeded" }], "finished"],
  ])("refuses with invalid_grant when %s", async (_name, pods, words) => {
    const { exchange, recorded } = setup(pods);
    const response = err(await exchange(body()));
    expect(response.error).toBe("invalid_grant");
    expect(response.error_description).toContain(words);
    expect(recorded).toEqual([]);
  });

  it("refuses a token whose pod lives in another namespace than the token says", async () => {
    const { exchange } = setup([{ ...POD, namespace: "other" }], [{ name: "shop", labels: {} }]);
    expect(err(await exchange(body())).error).toBe("invalid_grant");
  });

  it("refuses an actor_token beside a projected subject token: a workload's own token is never delegated", async () => {
    const { exchange, recorded } = setup();
    const outcome = err(await exchange(body({ actor_token: agentToken, actor_token_type: TOKEN_TYPE_JWT })));
    expect(outcome).toMatchObject({ error: "invalid_request" });
    expect(outcome.error_description).toMatch(/delegation grant/);
    expect(recorded).toHaveLength(0);
  });

  it("refuses a Tessera access token as subject token unless it is a delegation grant", async () => {
    const { exchange } = setup();
    const first = ok(await exchange(body({ audience: "payments" })));
    const outcome = err(await exchange(body({ subject_token: first.access_token, actor_token: agentToken, actor_token_type: TOKEN_TYPE_JWT })));
    expect(outcome.error).toBe("invalid_grant");
    expect(outcome.error_description).toMatch(/^subject_token: /);
  });

  it("answers temporarily_unavailable before the first signing key exists", async () => {
    const { exchange } = setup();
    const broken = createTokenExchange({
      ...{
        verifier: new JwksSubjectVerifier({ rules: RULES, keys: keySetOf(clusterKey), now: () => NOW }),
        pods: { get: () => POD },
        namespaces: { get: () => ({ name: "shop", labels: {} }) },
        decider: testDecider,
        keys: {
          current: () => {
            throw new IssuerError("KeysUnavailable", "no keys yet");
          },
          verificationKey: () => undefined,
        },
        recorder: { record: () => undefined },
        cluster: { name: "eu-1", environment: "prod" },
        issuer: TESSERA_ISSUER,
        serviceAccountIssuer: RULES.issuer,
        liveness: LIVE,
        now: () => NOW,
        newId: () => "x",
        logger: silentLogger,
      },
    });
    expect(err(await broken(body()))).toMatchObject({ error: "temporarily_unavailable" });
    expect((await exchange(body())).status).toBe(200);
  });

  it("answers 429 temporarily_unavailable with a retry time once a pod spends its burst, without deciding", async () => {
    const limiter = new PodRateLimiter({ perSecond: 0.5, burst: 2, maxPods: 10 });
    const { exchange, recorded } = setup(undefined, undefined, undefined, limiter);
    expect((await exchange(body())).status).toBe(200);
    expect((await exchange(body())).status).toBe(200);
    const refused = await exchange(body());
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ error: "temporarily_unavailable" });
    expect("retryAfterSeconds" in refused ? refused.retryAfterSeconds : undefined).toBe(2);
    expect(recorded).toHaveLength(2);
  });

  it("logs rate-limit refusals at debug level only, so a looping pod cannot flood the log", async () => {
    const capture = captureLogger();
    const { exchange } = setup(undefined, undefined, undefined, new PodRateLimiter({ perSecond: 0.5, burst: 1, maxPods: 10 }), capture.logger);
    for (let i = 0; i < 4; i++) await exchange(body());
    const refusals = capture.lines().filter((line) => line["code"] === "RateLimited");
    expect(refusals).toHaveLength(3);
    expect(refusals.every((line) => line["level"] === 20)).toBe(true);
  });

  it("spends no pod's share on a token that does not verify", async () => {
    const limiter = new PodRateLimiter({ perSecond: 0.5, burst: 1, maxPods: 10 });
    const { exchange } = setup(undefined, undefined, undefined, limiter);
    const forged = signToken(rsaClusterKey(), projectedClaims());
    for (let i = 0; i < 3; i++) expect(err(await exchange(body({ subject_token: forged }))).error).toBe("invalid_grant");
    expect(limiter.size).toBe(0);
    expect((await exchange(body())).status).toBe(200);
  });

  it("never answers 500 to arbitrary bodies", async () => {
    const { exchange } = setup();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.dictionary(
            fc.constantFrom("grant_type", "subject_token", "subject_token_type", "audience", "resource", "scope", "actor_token", "actor_token_type", "requested_token_type", "may_act"),
            fc.oneof(fc.string(), fc.constant(subjectToken), fc.constant(GRANT_TYPE_TOKEN_EXCHANGE), fc.constant(TOKEN_TYPE_JWT)),
          ).map((d) => new URLSearchParams(d).toString()),
        ),
        async (input) => {
          const outcome = await exchange(input);
          expect(outcome.status).toBeLessThan(500);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("in tokenreview mode, answers 503 temporarily_unavailable while the apiserver hangs, and keeps serving a reviewed token", async () => {
    const state = { hang: false, reviews: 0 };
    const { exchange } = setup(
      [POD],
      undefined,
      new TokenReviewSubjectVerifier({
        rules: RULES,
        pods: podLookupOf([POD]),
        now: () => NOW,
        deadlineMs: 20,
        reviewer: {
          review: () => {
            state.reviews += 1;
            if (state.hang) return new Promise<never>(() => undefined);
            return Promise.resolve({ authenticated: true, audiences: [RULES.audience], username: "system:serviceaccount:shop:api", extra: {} });
          },
        },
      }),
    );
    expect((await exchange(body())).status).toBe(200);
    state.hang = true;
    expect((await exchange(body())).status).toBe(200);
    const rotated = signToken(clusterKey, projectedClaims({ jti: "rotated" }));
    const outcome = await exchange(body({ subject_token: rotated }));
    expect(outcome.status).toBe(503);
    expect(err(outcome).error).toBe("temporarily_unavailable");
    expect(err(outcome).error_description).toContain("did not answer the TokenReview");
    expect(state.reviews).toBe(2);
  });
});
