// The issuer's maximum token lifetime: longer grants are clamped and say so; shorter grants and denials pass unchanged.
import { describe, expect, it } from "vitest";
import type { Decider, DecideInput } from "../../../../controller/src/issuer/exchange/decider.ts";
import { capTokenLifetime } from "../../../../controller/src/issuer/exchange/ttl-cap.ts";
import type { Decision } from "../../../../controller/src/policy/types.ts";
import { allowed, denied, subject } from "../decision-fixtures.ts";

const input: DecideInput = { subject, request: allowed.request, now: new Date(allowed.at), id: allowed.id };
const returning = (decision: Decision): Decider => ({ decide: () => decision });
const withTtl = (ttlSeconds: number): Decision => ({ ...allowed, grant: { ...allowed.grant, ttlSeconds } });

describe("capTokenLifetime", () => {
  it.each([
    ["a grant longer than the maximum is clamped to it", withTtl(7200), 3600, 3600],
    ["a grant at the maximum is kept", withTtl(3600), 3600, 3600],
    ["a grant under the maximum is kept", withTtl(300), 3600, 300],
  ])("%s", (_name, decision, max, expectedTtl) => {
    const out = capTokenLifetime(returning(decision), max).decide(input);
    expect(out.allowed && out.grant.ttlSeconds).toBe(expectedTtl);
  });

  it("records the clamp after the guardrails' own", () => {
    const out = capTokenLifetime(returning(withTtl(86_400)), 3600).decide(input);
    expect(out.allowed && out.grant.clamps).toEqual([
      "ttl clamped to 300s by ClusterTokenPolicy/baseline",
      "ttl clamped from 86400s to 3600s by the issuer's maximum token lifetime",
    ]);
  });

  it.each([
    ["a denial", denied],
    ["a grant within the maximum", withTtl(60)],
  ])("returns %s as the decider made it", (_name, decision) => {
    expect(capTokenLifetime(returning(decision), 3600).decide(input)).toBe(decision);
  });
});
