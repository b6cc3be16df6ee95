// Introspection: the rules table (pure), strict verification with Tessera's keys, and the "active:false only" answer.

import { describe, expect, it } from "vitest";
import { CLAIM_POD } from "../../../../api/constants.ts";
import type { AnyTokenPolicy } from "../../../../api/token-policy.ts";
import { INACTIVE, Introspector, verifyForIntrospection } from "../../../../controller/src/issuer/audit/introspection.ts";
import { inactiveReason, tokenBinding, type IntrospectionFacts, type TokenBinding } from "../../../../controller/src/issuer/audit/introspection-rules.ts";
import { generateKeyRecord, loadSigningKey, signJws, type SigningKey } from "../../../../controller/src/issuer/keys/keys.ts";
import { mintAccessToken } from "../../../../controller/src/issuer/exchange/mint.ts";
import type { PodInfo } from "../../../../controller/src/issuer/subject/pod-lookup.ts";
import { allowed, subject } from "../decision-fixtures.ts";

const ISSUER = "https://tessera.example";
const T0 = new Date("2026-11-23T01:00:00Z");
const IAT = Math.floor(T0.getTime() / 1000);

const livePod: PodInfo = {
  namespace: "payments",
  name: subject.pod.name,
  uid: subject.pod.uid,
  serviceAccountName: "api",
  labels: {},
  annotations: {},
  phase: "Running",
};

const binding: TokenBinding = {
  pod: { namespace: "payments", name: subject.pod.name, uid: subject.pod.uid },
  policy: { kind: "TokenPolicy", namespace: "payments", name: "ledger" },
  iat: IAT,
};

const fine: IntrospectionFacts = { revoked: false, pod: livePod, policy: { found: true } };

describe("introspection rules", () => {
  it.each<[string, Partial<IntrospectionFacts>, string | undefined]>([
    ["a live pod, policy and token", {}, undefined],
    ["a revoked jti", { revoked: true }, "revoked"],
    ["a deleted pod", { pod: undefined }, "pod-gone"],
    ["a pod recreated under the same name", { pod: { ...livePod, uid: "another-uid" } }, "pod-gone"],
    ["a terminating pod", { pod: { ...livePod, deletionTimestamp: "2026-11-23T01:00:05Z" } }, "pod-gone"],
    ["a finished pod", { pod: { ...livePod, phase: "Succeeded" } }, "pod-gone"],
    ["a deleted policy", { policy: { found: false } }, "policy-gone"],
    ["revokeBefore after iat", { policy: { found: true, revokeBefore: "2026-11-23T01:00:01Z" } }, "policy-revoked"],
    ["revokeBefore equal to iat", { policy: { found: true, revokeBefore: "2026-11-23T01:00:00Z" } }, undefined],
    ["revokeBefore before iat", { policy: { found: true, revokeBefore: "2026-11-23T00:59:59Z" } }, undefined],
    ["an unparseable revokeBefore", { policy: { found: true, revokeBefore: "yesterday" } }, "policy-revoked"],
  ])("answers %s with %s", (_name, facts, reason) => {
    expect(inactiveReason(binding, { ...fine, ...facts })).toBe(reason);
  });

  it.each<[string, Record<string, unknown>]>([
    ["no pod claim", { [CLAIM_POD]: undefined }],
    ["a pod claim without uid", { [CLAIM_POD]: { namespace: "payments", name: "p" } }],
    ["a TokenPolicy without namespace", { "tessera.dev/policy": { kind: "TokenPolicy", name: "x", generation: 1 } }],
    ["a ClusterTokenPolicy with a namespace", { "tessera.dev/policy": { kind: "ClusterTokenPolicy", namespace: "n", name: "x", generation: 1 } }],
    ["an unknown policy kind", { "tessera.dev/policy": { kind: "Other", name: "x", generation: 1 } }],
    ["a string iat", { iat: "now" }],
  ])("finds no binding in claims with %s", (_name, override) => {
    const key = loadSigningKey(generateKeyRecord("ES256", T0, T0));
    const { claims } = mintAccessToken({ decision: allowed, key, issuer: ISSUER, now: T0 });
    expect(tokenBinding(claims)).toBeDefined();
    expect(tokenBinding({ ...claims, ...override })).toBeUndefined();
  });
});

function forge(key: SigningKey, header: Record<string, unknown>, claims: Record<string, unknown>): string {
  const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${signJws(key, Buffer.from(input)).toString("base64url")}`;
}

describe("strict verification", () => {
  const key = loadSigningKey(generateKeyRecord("ES256", T0, T0));
  const other = loadSigningKey(generateKeyRecord("ES256", T0, T0));
  const keys = { verificationKey: (kid: string) => (kid === key.kid ? key : undefined) };
  const { token, claims } = mintAccessToken({ decision: allowed, key, issuer: ISSUER, now: T0 });
  const header = { alg: "ES256", typ: "at+jwt", kid: key.kid };
  const [h, p, s] = token.split(".") as [string, string, string];

  it.each<[string, string, number, string]>([
    ["a freshly minted token", token, IAT + 1, "ok"],
    ["the same token at exp", token, IAT + allowed.grant.ttlSeconds, "expired"],
    ["a token signed by a key Tessera does not publish", forge(other, { ...header, kid: other.kid }, claims), IAT, "invalid"],
    ["a token claiming our kid but signed by another key", forge(other, header, claims), IAT, "invalid"],
    ["typ JWT (a service-account token's)", forge(key, { ...header, typ: "JWT" }, claims), IAT, "invalid"],
    ["alg none", `${Buffer.from(JSON.stringify({ ...header, alg: "none" })).toString("base64url")}.${p}.`, IAT, "invalid"],
    ["alg HS256", forge(key, { ...header, alg: "HS256" }, claims), IAT, "invalid"],
    ["another issuer", forge(key, header, { ...claims, iss: "https://evil.example" }), IAT, "invalid"],
    ["no jti", forge(key, header, { ...claims, jti: undefined }), IAT, "invalid"],
    ["a tampered payload", `${h}.${Buffer.from(JSON.stringify({ ...claims, scope: "admin" })).toString("base64url")}.${s}`, IAT, "invalid"],
    ["garbage", "not-a-token", IAT, "invalid"],
    ["a huge string", "a".repeat(20_000), IAT, "invalid"],
  ])("judges %s: %s", (_name, candidate, now, expected) => {
    const got = verifyForIntrospection(candidate, keys, ISSUER, ["ES256", "EdDSA"], now);
    expect(got.ok ? "ok" : got.reason).toBe(expected);
  });
});

describe("introspector", () => {
  const key = loadSigningKey(generateKeyRecord("EdDSA", T0, T0));
  const { token, claims } = mintAccessToken({ decision: allowed, key, issuer: ISSUER, now: T0 });
  const policy = { spec: {} } as unknown as AnyTokenPolicy;

  function introspector(facts: { revoked?: boolean; pod?: PodInfo; policy?: AnyTokenPolicy }): Introspector {
    return new Introspector({
      issuer: ISSUER,
      keys: { verificationKey: (kid) => (kid === key.kid ? key : undefined) },
      revocations: { isRevoked: () => facts.revoked ?? false },
      pods: { get: () => facts.pod },
      policies: { get: () => Promise.resolve(facts.policy) },
      now: () => new Date(T0.getTime() + 5000),
    });
  }

  it("answers an active token with its claims, active true and token_type", async () => {
    expect(await introspector({ pod: livePod, policy }).introspect(token)).toEqual({ ...claims, token_type: "Bearer", active: true });
  });

  it.each<[string, { revoked?: boolean; pod?: PodInfo; policy?: AnyTokenPolicy }]>([
    ["revoked", { revoked: true, pod: livePod, policy }],
    ["pod gone", { policy }],
    ["policy gone", { pod: livePod }],
  ])("answers exactly {active:false} when %s", async (_name, facts) => {
    expect(await introspector(facts).introspect(token)).toStrictEqual(INACTIVE);
  });
});
