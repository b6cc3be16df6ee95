// One canonical spelling per audience: every variant a resource server might accept maps to one form.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  audienceSpellingProblem,
  canonicalAudience,
  serviceUrlNamespace,
} from "../../../../controller/src/policy/audience/canonical.ts";

describe("canonicalAudience", () => {
  it.each([
    ["a trailing slash is removed", "https://payments.example/", "https://payments.example"],
    ["scheme and host are lower-cased", "HTTPS://PAYMENTS.EXAMPLE", "https://payments.example"],
    ["the default https port is removed", "https://payments.example:443", "https://payments.example"],
    ["the default http port is removed", "http://payments.example:80/api", "http://payments.example/api"],
    ["another port is kept", "https://payments.example:8443", "https://payments.example:8443"],
    ["a trailing dot on the host is removed", "https://payments.example./", "https://payments.example"],
    ["dot segments are resolved", "https://payments.example/a/../api/", "https://payments.example/api"],
    ["escapes of unreserved characters are decoded", "https://payments.example/%61pi", "https://payments.example/api"],
    ["other escapes keep upper-case hex", "https://payments.example/a%2fb", "https://payments.example/a%2Fb"],
    ["the path keeps its case", "https://payments.example/V1", "https://payments.example/V1"],
    ["an internationalized host takes its ASCII form", "https://bücher.example", "https://xn--bcher-kva.example"],
    ["a bare DNS name is lower-cased", "STS.AmazonAWS.com", "sts.amazonaws.com"],
    ["a URN's prefix and namespace are lower-cased, its name kept", "URN:Example:Orders", "urn:example:Orders"],
    ["another scheme's authority is lower-cased", "API://Tenant-A/", "api://tenant-a"],
    ["a plain name is kept", "vault", "vault"],
  ])("%s", (_name, raw, canonical) => {
    expect(canonicalAudience(raw)).toEqual({ ok: true, audience: canonical });
  });

  it.each([
    ["an empty audience", ""],
    ["whitespace", "https://payments.example /x"],
    ["a control character", "https://payments.example\u0000"],
    ["user information", "https://user@payments.example"],
    ["a query", "https://payments.example/?a=1"],
    ["a fragment", "https://payments.example/#x"],
    ["a URL without a host", "https:///path"],
    ["an over-long audience", `https://${"a".repeat(1100)}.example`],
  ])("refuses %s", (_name, raw) => {
    expect(canonicalAudience(raw).ok).toBe(false);
  });

  it("is idempotent: a canonical audience is its own canonical form", () => {
    const part = fc.stringMatching(/^[A-Za-z0-9%./:_~-]{0,12}$/);
    fc.assert(
      fc.property(fc.constantFrom("https://", "HTTP://", "api://", "urn:", ""), part, part, (scheme, host, path) => {
        const first = canonicalAudience(`${scheme}${host}/${path}`);
        if (!first.ok) return;
        expect(canonicalAudience(first.audience)).toEqual(first);
      }),
      { numRuns: 2000, seed: 7 },
    );
  });

  it("answers a non-canonical spelling with the canonical one", () => {
    expect(audienceSpellingProblem("HTTPS://Payments.example/")).toBe(
      "write audience 'HTTPS://Payments.example/' in its canonical form 'https://payments.example'",
    );
    expect(audienceSpellingProblem("https://payments.example")).toBeUndefined();
  });
});

describe("serviceUrlNamespace", () => {
  it.each([
    ["a Service URL", "https://orders.team-a.svc", "team-a"],
    ["with the cluster domain", "https://orders.team-a.svc.cluster.local", "team-a"],
    ["with a port and path", "https://orders.team-a.svc:8443/v1", "team-a"],
    ["not a Service URL", "https://orders.internal", undefined],
    ["another cluster domain is not assumed", "https://orders.team-a.svc.example.com", undefined],
  ])("%s", (_name, audience, namespace) => {
    expect(serviceUrlNamespace(audience)).toBe(namespace);
  });
});
