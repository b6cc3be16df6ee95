// How the demo shows a token: a preview that cannot be replayed, decoded header and claims, times made readable.
import { describe, expect, it } from "vitest";
import { DemoStepError } from "../../../examples/demo/runner.ts";
import { changeLines, claimChanges, claimValue, fieldLines, previewToken, viewToken } from "../../../examples/demo/jwt-view.ts";

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
const token = `${b64({ alg: "ES256", typ: "at+jwt", kid: "k1" })}.${b64({ sub: "system:serviceaccount:checkout:checkout-api", exp: 1_000_900, tenant: "acme" })}.c2ln`;

describe("the token view", () => {
  it("shows only the start of the token and its length", () => {
    const preview = previewToken(token);
    expect(preview.startsWith(token.slice(0, 20))).toBe(true);
    expect(preview).not.toContain(token.slice(21));
    expect(preview).toContain(`${String(token.length)} characters`);
  });

  it("decodes the header and the claims", () => {
    const view = viewToken(token);
    expect(view.header).toEqual({ alg: "ES256", typ: "at+jwt", kid: "k1" });
    expect(view.claims["tenant"]).toBe("acme");
  });

  it.each([
    ["a token without three parts", "abc.def"],
    ["a token whose payload is not JSON", `${b64({ alg: "ES256" })}.bm90IGpzb24.c2ln`],
  ])("refuses %s", (_name, bad) => {
    expect(() => viewToken(bad)).toThrow(DemoStepError);
  });

  it.each([
    ["a string as it is", "tenant", "acme", "acme"],
    ["a list as JSON", "aud", ["a", "b"], '["a","b"]'],
    ["a future time with its distance", "exp", 1_000_900, "1970-01-12T14:01:40.000Z (in 900 s)"],
    ["a past time with its age", "iat", 999_990, "1970-01-12T13:46:30.000Z (10 s ago)"],
  ])("writes %s", (_name, claim, value, expected) => {
    expect(claimValue(claim, value, 1_000_000)).toBe(expected);
  });

  it("aligns field values", () => {
    expect(fieldLines({ a: "1", long: "2" }, 0).split("\n")).toEqual(["a     1", "long  2"]);
  });
});

describe("claimChanges", () => {
  const before = { tenant: "acme", jti: "a", exp: 1, "tessera.dev/policy": { generation: 1 } };
  const after = { tenant: "acme", jti: "b", exp: 2, region: "eu-west-1", "tessera.dev/policy": { generation: 2 } };

  it("lists added and changed claims, and ignores the ones every token changes", () => {
    expect(claimChanges(before, after)).toEqual([
      { name: "tessera.dev/policy", before: { generation: 1 }, after: { generation: 2 } },
      { name: "region", before: undefined, after: "eu-west-1" },
    ]);
  });

  it("writes a new claim as coming from nothing", () => {
    expect(changeLines(claimChanges(before, after)).split("\n")).toContain("region              (absent) -> eu-west-1");
  });
});
