// Delegation through grants (RFC 8693 sections 4.1 and 4.4): a workload asks for a grant naming its actor, the actor
// proves itself on every use, scopes only shrink, the chain is exactly the verified one, and nothing works alone.
import fc from "fast-check";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import {
  CLAIM_DELEGATION,
  GRANT_TYPE_TOKEN_EXCHANGE,
  K8S_TOKEN_CLAIM,
  PATH_TOKEN,
  PARAM_MAY_ACT,
  TOKEN_TYPE_JWT,
} from "../../../../api/constants.ts";
import type { OAuthErrorResponse, TokenExchangeResponse } from "../../../../api/exchange.ts";
import type { InactiveReason } from "../../../../controller/src/issuer/metrics.ts";
import type { Decider, DecideInput } from "../../../../controller/src/issuer/exchange/decider.ts";
import { createTokenExchange, type DpopHeader, type ExchangeOutcome } from "../../../../controller/src/issuer/exchange/exchange.ts";
import { mintAccessToken } from "../../../../controller/src/issuer/exchange/mint.ts";
import { generateKeyRecord, loadSigningKey, signJws } from "../../../../controller/src/issuer/keys/keys.ts";
import type { PodInfo } from "../../../../controller/src/issuer/subject/pod-lookup.ts";
import { JwksSubjectVerifier } from "../../../../controller/src/issuer/subject/subject-verifier.ts";
import type { Decision, DenialReason } from "../../../../controller/src/policy/types.ts";
import { generateDpopSigner } from "../../../../sidecar/src/dpop-key.ts";
import { keySetOf, NOW, projectedClaims, rsaClusterKey, RULES, signToken, silentLogger, SUBJECT, TESSERA_ISSUER } from "../fixtures.ts";

const clusterKey = rsaClusterKey();
const signingKey = loadSigningKey(generateKeyRecord("ES256", NOW, NOW));
const TOKEN_URL = `${TESSERA_ISSUER}${PATH_TOKEN}`;
const SCOPES = ["read", "write", "admin"];
const AGENTS = ["planner", "searcher", "writer"] as const;
type Agent = (typeof AGENTS)[number];
const sub = (agent: Agent) => `system:serviceaccount:agents:${agent}`;

const WORKSPACE: PodInfo = {
  namespace: "shop",
  name: "api-0",
  uid: "pod-uid-1",
  serviceAccountName: "api",
  labels: { app: "api" },
  annotations: {},
  nodeName: "node-a",
  phase: "Running",
};
const agentPod = (agent: Agent): PodInfo => ({ ...WORKSPACE, namespace: "agents", name: `${agent}-0`, uid: `uid-${agent}`, serviceAccountName: agent });

/** shop/api may get "payments" with read, write or admin; any agent may act for it, up to three deep. */
const decider: Decider = {
  decide({ subject, request, id, now }: DecideInput): Decision {
    const common = { id, at: now.toISOString(), subject, request, evaluations: [], audiences: [] };
    const deny = (reason: DenialReason, message: string): Decision => ({ ...common, allowed: false, reason, message, deniedBy: "caller" });
    if (subject.serviceAccount.name !== "api") return deny("NoMatchingPolicy", "no policy selects this service account");
    if (!request.audiences.every((a) => a === "payments" || a === "ledger")) return deny("AudienceNotAllowed", "audience not allowed");
    if (!request.scopes.every((s) => SCOPES.includes(s))) return deny("ScopeNotAllowed", "scope not allowed");
    if (subject.actors.length > 3) return deny("DelegationChainTooLong", "too long");
    return {
      ...common,
      allowed: true,
      policy: { kind: "TokenPolicy", namespace: "shop", name: "api", generation: 1 },
      grant: { audiences: request.audiences, scopes: request.scopes.length === 0 ? ["read"] : request.scopes, ttlSeconds: 900, claims: { tenant: "acme" }, clamps: [] },
    };
  },
};

function setup(options: { inactive?: (claims: Readonly<Record<string, unknown>>) => InactiveReason | undefined; pods?: PodInfo[] } = {}) {
  const pods = options.pods ?? [WORKSPACE, ...AGENTS.map(agentPod)];
  const checked: Readonly<Record<string, unknown>>[] = [];
  const decided: Decision[] = [];
  let n = 0;
  const exchange = createTokenExchange({
    verifier: new JwksSubjectVerifier({ rules: RULES, keys: keySetOf(clusterKey), now: () => NOW }),
    pods: { get: (ns, name) => pods.find((p) => p.namespace === ns && p.name === name) },
    namespaces: { get: (name) => ({ name, labels: {} }) },
    decider: { decide: (input) => { const d = decider.decide(input); decided.push(d); return d; } },
    keys: { current: () => signingKey, verificationKey: (kid) => (kid === signingKey.kid ? signingKey : undefined) },
    recorder: { record: () => undefined },
    cluster: { name: "eu-1", environment: "prod" },
    issuer: TESSERA_ISSUER,
    serviceAccountIssuer: RULES.issuer,
    liveness: {
      inactiveReason: (claims) => {
        checked.push(claims);
        return Promise.resolve(options.inactive?.(claims));
      },
    },
    now: () => NOW,
    newId: () => `d-${++n}`,
    logger: silentLogger,
  });
  return { exchange, checked, decided };
}

const workspaceToken = signToken(clusterKey, projectedClaims());
const agentToken = (agent: Agent) =>
  signToken(
    clusterKey,
    projectedClaims({
      sub: sub(agent),
      [K8S_TOKEN_CLAIM]: { namespace: "agents", pod: { name: `${agent}-0`, uid: `uid-${agent}` }, serviceaccount: { name: agent, uid: `sa-${agent}` } },
    }),
  );

function form(params: Record<string, string | undefined>): string {
  const all: Record<string, string | undefined> = {
    grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
    subject_token_type: TOKEN_TYPE_JWT,
    audience: "payments",
    ...params,
  };
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(all)) if (v !== undefined) body.append(k, v);
  return body.toString();
}

const withActor = (actorToken: string) => ({ actor_token: actorToken, actor_token_type: TOKEN_TYPE_JWT });

function ok(outcome: ExchangeOutcome): TokenExchangeResponse {
  expect(outcome.body).not.toHaveProperty("error");
  expect(outcome.status).toBe(200);
  return outcome.body as TokenExchangeResponse;
}

function refused(outcome: ExchangeOutcome): OAuthErrorResponse {
  expect(outcome.status).not.toBe(200);
  return outcome.body as OAuthErrorResponse;
}

type Exchange = (body: string, dpop?: DpopHeader) => Promise<ExchangeOutcome>;

/** The workspace's grant for `agent`. */
async function grantFor(exchange: Exchange, agent: Agent, scope = "read"): Promise<string> {
  return ok(await exchange(form({ subject_token: workspaceToken, scope, [PARAM_MAY_ACT]: sub(agent) }))).access_token;
}

describe("delegation grants", () => {
  it("mints a grant for the issuer alone, carrying only the delegated scopes, may_act and a short life", async () => {
    const { exchange } = setup();
    const response = ok(await exchange(form({ subject_token: workspaceToken, scope: "read", [PARAM_MAY_ACT]: sub("planner") })));
    const claims = decodeJwt(response.access_token);
    expect(claims).toMatchObject({ aud: TESSERA_ISSUER, sub: "system:serviceaccount:shop:api", scope: "read" });
    expect(claims["may_act"]).toMatchObject({ sub: sub("planner"), iss: RULES.issuer });
    expect(claims[CLAIM_DELEGATION]).toEqual({ audiences: ["payments"] });
    expect(claims).not.toHaveProperty("act");
    expect(claims).not.toHaveProperty("tenant");
    expect(response.expires_in).toBeLessThanOrEqual(300);
  });

  it("asks the policy as if the named actor already acted", async () => {
    const { exchange, decided } = setup();
    await grantFor(exchange, "planner");
    expect(decided[0]?.subject.actors.map((a) => a.sub)).toEqual([sub("planner")]);
  });

  it("gives the proven actor a token as the workspace, with the actor in act and the grant's scopes", async () => {
    const { exchange } = setup();
    const grant = await grantFor(exchange, "planner");
    const token = ok(await exchange(form({ subject_token: grant, ...withActor(agentToken("planner")) }))).access_token;
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ aud: "payments", sub: "system:serviceaccount:shop:api", scope: "read", tenant: "acme" });
    expect(claims["act"]).toEqual({ sub: sub("planner"), iss: RULES.issuer, "tessera.dev/namespace": "agents", "tessera.dev/serviceaccount": "planner" });
    expect(claims).not.toHaveProperty("may_act");
  });

  it.each([
    ["a grant alone, without the actor's own credential", (g: string) => form({ subject_token: g }), "invalid_request"],
    ["a grant with another agent's credential", (g: string) => form({ subject_token: g, ...withActor(agentToken("searcher")) }), "invalid_grant"],
    ["a grant with the workspace's own projected token as actor", (g: string) => form({ subject_token: g, ...withActor(workspaceToken) }), "invalid_grant"],
    ["a scope the grant does not carry", (g: string) => form({ subject_token: g, scope: "write", ...withActor(agentToken("planner")) }), "invalid_scope"],
    ["an audience the grant does not delegate", (g: string) => form({ subject_token: g, audience: "ledger", ...withActor(agentToken("planner")) }), "invalid_target"],
  ])("refuses %s", async (_name, body, error) => {
    const { exchange } = setup();
    const grant = await grantFor(exchange, "planner");
    expect(refused(await exchange(body(grant)))).toMatchObject({ error });
  });

  it("refuses the workspace's raw projected token beside an actor: the old flow that handed the workspace's rights over", async () => {
    const { exchange } = setup();
    expect(refused(await exchange(form({ subject_token: workspaceToken, scope: "write", ...withActor(agentToken("planner")) })))).toMatchObject({
      error: "invalid_request",
    });
  });

  it("refuses an actor's minted token used as a grant or as a bearer actor credential", async () => {
    const { exchange } = setup();
    const grant = await grantFor(exchange, "planner");
    const plannerToken = ok(await exchange(form({ subject_token: grant, ...withActor(agentToken("planner")) }))).access_token;
    // Another agent holding the planner's token cannot use it as a grant ...
    expect(refused(await exchange(form({ subject_token: plannerToken, ...withActor(agentToken("searcher")) })))).toMatchObject({ error: "invalid_grant" });
    // ... nor present a grant and a Tessera bearer token (here a grant itself) to pose as the planner.
    const issuerToken = await grantFor(exchange, "searcher");
    const outcome = refused(await exchange(form({ subject_token: grant, ...withActor(issuerToken) })));
    expect(outcome.error).toBe("invalid_grant");
    expect(outcome.error_description).toMatch(/^actor_token: /);
  });

  it("runs the introspection checks on every grant presented, and refuses a dead one", async () => {
    for (const reason of ["revoked", "pod-gone", "policy-revoked"] as const) {
      const { exchange, checked } = setup({ inactive: (claims) => (claims["may_act"] === undefined ? undefined : reason) });
      const grant = await grantFor(exchange, "planner");
      const outcome = refused(await exchange(form({ subject_token: grant, ...withActor(agentToken("planner")) })));
      expect(outcome).toMatchObject({ error: "invalid_grant" });
      expect(outcome.error_description).toContain(reason);
      expect(checked.map((c) => c["jti"])).toEqual([decodeJwt(grant).jti]);
    }
  });

  it("refuses a grant whose delegating pod was replaced", async () => {
    const { exchange: minting } = setup();
    const grant = await grantFor(minting, "planner");
    const { exchange } = setup({ pods: [{ ...WORKSPACE, uid: "new-uid" }, agentPod("planner")] });
    expect(refused(await exchange(form({ subject_token: grant, ...withActor(agentToken("planner")) })))).toMatchObject({ error: "invalid_grant" });
  });

  it("refuses an actor whose pod is gone", async () => {
    const { exchange: minting } = setup();
    const grant = await grantFor(minting, "planner");
    const { exchange } = setup({ pods: [WORKSPACE] });
    expect(refused(await exchange(form({ subject_token: grant, ...withActor(agentToken("planner")) })))).toMatchObject({ error: "invalid_grant" });
  });

  it("accepts a DPoP-bound Tessera token as the actor's credential only with a proof of its key, and only while live", async () => {
    const signer = generateDpopSigner({ now: () => NOW });
    const other = generateDpopSigner({ now: () => NOW });
    // The planner's own token for the issuer, bound to its sidecar's key.
    const bound = mintAccessToken({
      decision: {
        id: "planner-own",
        at: NOW.toISOString(),
        subject: { ...SUBJECT, serviceAccount: { namespace: "agents", name: "planner" }, pod: { ...SUBJECT.pod, name: "planner-0", uid: "uid-planner" } },
        request: { audiences: [TESSERA_ISSUER], scopes: [] },
        evaluations: [],
        audiences: [],
        allowed: true,
        policy: { kind: "TokenPolicy", namespace: "agents", name: "planner", generation: 1 },
        grant: { audiences: [TESSERA_ISSUER], scopes: [], ttlSeconds: 300, claims: {}, clamps: [] },
      },
      key: signingKey,
      issuer: TESSERA_ISSUER,
      now: NOW,
      jkt: signer.jkt,
    }).token;
    const { exchange, checked } = setup();
    const grant = await grantFor(exchange, "planner");
    const use = (proof?: string) => exchange(form({ subject_token: grant, ...withActor(bound) }), proof);
    const token = ok(await use(signer.proof({ method: "POST", url: TOKEN_URL }))).access_token;
    expect(decodeJwt(token)["act"]).toMatchObject({ sub: sub("planner"), iss: TESSERA_ISSUER });
    expect(decodeJwt(token)["cnf"]).toEqual({ jkt: signer.jkt });
    expect(checked.map((c) => c["jti"])).toContain("planner-own");
    expect(refused(await use(other.proof({ method: "POST", url: TOKEN_URL }))).error_description).toMatch(/^actor_token: .*key/);
    expect(refused(await use()).error_description).toMatch(/^actor_token: /);
  });

  it("re-delegates down a chain that cannot be cut: each link proven, scopes shrinking, current actor outermost", async () => {
    const { exchange } = setup();
    const first = await grantFor(exchange, "planner", "read write");
    // The planner passes read on to the searcher, proving itself.
    const second = ok(
      await exchange(form({ subject_token: first, scope: "read", [PARAM_MAY_ACT]: sub("searcher"), ...withActor(agentToken("planner")) })),
    ).access_token;
    expect(decodeJwt(second)["act"]).toMatchObject({ sub: sub("planner") });
    // It cannot pass on more than it holds.
    expect(
      refused(await exchange(form({ subject_token: first, scope: "admin", [PARAM_MAY_ACT]: sub("searcher"), ...withActor(agentToken("planner")) }))),
    ).toMatchObject({ error: "invalid_scope" });
    const token = ok(await exchange(form({ subject_token: second, ...withActor(agentToken("searcher")) }))).access_token;
    const act = decodeJwt(token)["act"] as Record<string, unknown>;
    expect(act["sub"]).toBe(sub("searcher"));
    expect((act["act"] as Record<string, unknown>)["sub"]).toBe(sub("planner"));
    expect(decodeJwt(token)["scope"]).toBe("read");
    // The searcher cannot drop the planner by using the planner's grant.
    expect(refused(await exchange(form({ subject_token: first, ...withActor(agentToken("searcher")) })))).toMatchObject({ error: "invalid_grant" });
  });

  it("property: along random chains, scopes only shrink, the chain is the verified one, and nothing works without a proven actor", async () => {
    const link = fc.record({ agent: fc.constantFrom(...AGENTS), scopes: fc.subarray(SCOPES, { minLength: 1 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(link, { minLength: 1, maxLength: 4 }), fc.subarray(SCOPES), fc.constantFrom(...AGENTS), async (links, asked, impostor) => {
        const { exchange } = setup();
        let grant: string | undefined;
        let heldScopes = SCOPES;
        const chain: Agent[] = [];
        for (const { agent, scopes } of links) {
          const params = { scope: scopes.join(" "), [PARAM_MAY_ACT]: sub(agent) };
          const previous = chain[0];
          const outcome =
            grant === undefined || previous === undefined
              ? await exchange(form({ subject_token: workspaceToken, ...params }))
              : await exchange(form({ subject_token: grant, ...params, ...withActor(agentToken(previous)) }));
          const within = scopes.every((s) => heldScopes.includes(s)) && chain.length + 1 <= 3;
          if (!within) {
            expect(outcome.status).not.toBe(200);
            return;
          }
          grant = ok(outcome).access_token;
          heldScopes = scopes;
          chain.unshift(agent);
        }
        if (grant === undefined || chain[0] === undefined) return;
        // Without a proven actor, or with another one, the grant yields nothing.
        expect((await exchange(form({ subject_token: grant }))).status).not.toBe(200);
        if (impostor !== chain[0]) {
          expect((await exchange(form({ subject_token: grant, ...withActor(agentToken(impostor)) }))).status).not.toBe(200);
        }
        const outcome = await exchange(form({ subject_token: grant, scope: asked.join(" "), ...withActor(agentToken(chain[0])) }));
        if (!asked.every((s) => heldScopes.includes(s))) {
          expect(outcome.status).not.toBe(200);
          return;
        }
        const claims = decodeJwt(ok(outcome).access_token);
        const minted = String(claims["scope"]).split(" ");
        expect(minted.every((s) => heldScopes.includes(s))).toBe(true);
        const actors: string[] = [];
        for (let act = claims["act"] as Record<string, unknown> | undefined; act !== undefined; act = act["act"] as Record<string, unknown> | undefined) {
          actors.push(String(act["sub"]));
        }
        expect(actors).toEqual(chain.map(sub));
      }),
      { numRuns: 60 },
    );
  });

  it("property: a Tessera-signed subject token with any claims whatever never makes the issuer fail", async () => {
    const value = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.string(), { maxKeys: 3 }));
    const claims = fc.record(
      {
        may_act: fc.oneof(value, fc.record({ sub: fc.constantFrom(sub("planner"), "x"), "tessera.dev/namespace": fc.constantFrom("agents", 1), "tessera.dev/serviceaccount": fc.constantFrom("planner", "") })),
        act: fc.oneof(value, fc.record({ sub: fc.string(), iss: fc.string(), act: value })),
        scope: value,
        "tessera.dev/delegation": fc.oneof(value, fc.record({ audiences: fc.oneof(value, fc.constant(["payments"])) })),
        "tessera.dev/pod": fc.oneof(value, fc.constant({ namespace: "shop", name: "api-0", uid: "pod-uid-1" })),
        "tessera.dev/policy": fc.oneof(value, fc.constant({ kind: "TokenPolicy", namespace: "shop", name: "api" })),
        "tessera.dev/namespace": fc.oneof(value, fc.constant("shop")),
        "tessera.dev/serviceaccount": fc.oneof(value, fc.constant("api")),
      },
      { requiredKeys: [] },
    );
    const { exchange } = setup();
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    await fc.assert(
      fc.asyncProperty(claims, async (extra) => {
        const now = Math.floor(NOW.getTime() / 1000);
        const payload = { ...extra, iss: TESSERA_ISSUER, aud: TESSERA_ISSUER, sub: "system:serviceaccount:shop:api", iat: now, exp: now + 60, jti: "j" };
        const input = `${b64({ alg: signingKey.alg, typ: "at+jwt", kid: signingKey.kid })}.${b64(payload)}`;
        const token = `${input}.${signJws(signingKey, Buffer.from(input, "ascii")).toString("base64url")}`;
        const outcome = await exchange(form({ subject_token: token, ...withActor(agentToken("planner")) }));
        expect(outcome.status).toBeLessThan(500);
      }),
      { numRuns: 200 },
    );
  });
});
