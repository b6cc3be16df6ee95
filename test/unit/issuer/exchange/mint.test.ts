// Minted at+jwt tokens: header, RFC 9068 claims, Tessera claims, act nesting, verified with jose as an outside check.
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import {
  CLAIM_CLUSTER,
  CLAIM_ENVIRONMENT,
  CLAIM_NAMESPACE,
  CLAIM_POD,
  CLAIM_POLICY,
  CLAIM_SERVICE_ACCOUNT,
} from "../../../../api/constants.ts";
import { generateKeyRecord, loadSigningKey, type SigningAlgorithm } from "../../../../controller/src/issuer/keys/keys.ts";
import { mintAccessToken } from "../../../../controller/src/issuer/exchange/mint.ts";
import type { AllowedDecision, Subject } from "../../../../controller/src/policy/types.ts";
import { NOW, NOW_S, SUBJECT, TESSERA_ISSUER } from "../fixtures.ts";


function allowed(overrides: Partial<AllowedDecision> = {}, grant: Partial<AllowedDecision["grant"]> = {}): AllowedDecision {
  return {
    id: "d-0001",
    at: NOW.toISOString(),
    subject: SUBJECT,
    request: { audiences: ["payments"], scopes: ["read"] },
    evaluations: [],
    audiences: [],
    allowed: true,
    policy: { kind: "TokenPolicy", namespace: "shop", name: "api", generation: 3 },
    grant: { audiences: ["payments"], scopes: ["read"], ttlSeconds: 300, claims: { tenant: "acme" }, clamps: [], ...grant },
    ...overrides,
  };
}

describe.each<SigningAlgorithm>(["ES256", "EdDSA"])("mintAccessToken with %s", (alg) => {
  const key = loadSigningKey(generateKeyRecord(alg, NOW, NOW));
  const jwks = createLocalJWKSet({ keys: [{ ...key.publicJwk }] });

  it("produces a token jose verifies with typ at+jwt and the published kid", async () => {
    const { token } = mintAccessToken({ decision: allowed(), key, issuer: TESSERA_ISSUER, now: NOW });
    expect(decodeProtectedHeader(token)).toEqual({ alg, typ: "at+jwt", kid: key.kid });
    const { payload } = await jwtVerify(token, jwks, {
      issuer: TESSERA_ISSUER,
      audience: "payments",
      typ: "at+jwt",
      algorithms: [alg],
      currentDate: NOW,
    });
    expect(payload).toEqual({
      iss: TESSERA_ISSUER,
      sub: "system:serviceaccount:shop:api",
      aud: "payments",
      exp: NOW_S + 300,
      nbf: NOW_S,
      iat: NOW_S,
      jti: "d-0001",
      client_id: "system:serviceaccount:shop:api",
      scope: "read",
      tenant: "acme",
      [CLAIM_POLICY]: { kind: "TokenPolicy", namespace: "shop", name: "api", generation: 3 },
      [CLAIM_POD]: { name: "api-0", uid: "pod-uid-1", namespace: "shop", node: "node-a" },
      [CLAIM_CLUSTER]: "eu-1",
      [CLAIM_ENVIRONMENT]: "prod",
      [CLAIM_NAMESPACE]: "shop",
      [CLAIM_SERVICE_ACCOUNT]: "api",
    });
  });
});

describe("accessTokenClaims", () => {
  const key = loadSigningKey(generateKeyRecord("ES256", NOW, NOW));
  const mint = (decision: AllowedDecision) => mintAccessToken({ decision, key, issuer: TESSERA_ISSUER, now: NOW }).claims;

  it("keeps aud a list when several audiences are granted", () => {
    expect(mint(allowed({}, { audiences: ["a", "b"] }))["aud"]).toEqual(["a", "b"]);
  });

  it("omits scope when none is granted", () => {
    expect(mint(allowed({}, { scopes: [] }))).not.toHaveProperty("scope");
  });

  it("nests act with the current actor outermost", () => {
    const subject: Subject = {
      ...SUBJECT,
      actors: [
        { sub: "system:serviceaccount:agents:planner", iss: "https://k8s", serviceAccount: { namespace: "agents", name: "planner" } },
        { sub: "system:serviceaccount:ci:pipeline", iss: TESSERA_ISSUER },
      ],
    };
    expect(mint(allowed({ subject }))["act"]).toEqual({
      sub: "system:serviceaccount:agents:planner",
      iss: "https://k8s",
      [CLAIM_NAMESPACE]: "agents",
      [CLAIM_SERVICE_ACCOUNT]: "planner",
      act: { sub: "system:serviceaccount:ci:pipeline", iss: TESSERA_ISSUER },
    });
  });

  it("never lets a policy claim overwrite an issuer-owned or Tessera claim", () => {
    const claims = mint(allowed({}, { claims: { sub: "root", exp: 9_999_999_999, [CLAIM_NAMESPACE]: "kube-system", team: "x" } }));
    expect(claims["sub"]).toBe("system:serviceaccount:shop:api");
    expect(claims["exp"]).toBe(NOW_S + 300);
    expect(claims[CLAIM_NAMESPACE]).toBe("shop");
    expect(claims["team"]).toBe("x");
  });
});
