// Request targets: routes as URL parsing resolves them, what a token query asks for, and the bounded memo over both.
import { describe, expect, it } from "vitest";
import { parseRequestTarget, requestTargets } from "../../../sidecar/src/request-target.ts";
import { tokenKey } from "../../../sidecar/src/token-key.ts";

describe("parseRequestTarget", () => {
  it.each([
    ["a plain path", "/healthz", "/healthz"],
    ["a path with a query", "/metrics?x=1", "/metrics"],
    ["dot segments", "/v1/../healthz", "/healthz"],
    ["an authority-looking start", "//evil.example/v1/token?name=a", "/v1/token"],
    ["an absolute URL", "http://other.example/readyz", "/readyz"],
    ["a percent-encoded path, left encoded", "/v1/%74oken", "/v1/%74oken"],
  ])("resolves %s to its route", (_case, raw, route) => {
    expect(parseRequestTarget(raw).route).toBe(route);
  });

  it.each([
    ["a configured name", "/v1/token?name=payments", { kind: "name", name: "payments" }],
    ["an audience and scopes, sorted and de-duplicated", "/v1/token?audience=https%3A%2F%2Fp.example&scope=write%20read&scope=read", { kind: "key", key: tokenKey("https://p.example", ["read", "write"]) }],
    ["no audience", "/v1/token", { kind: "invalid", status: 400, error: "invalid_request", description: "exactly one audience (or a configured name) is required" }],
    ["two audiences", "/v1/token?audience=a&audience=b", { kind: "invalid", status: 400, error: "invalid_request", description: "exactly one audience (or a configured name) is required" }],
    ["a name with an audience", "/v1/token?name=a&audience=b", { kind: "invalid", status: 400, error: "invalid_request", description: "name cannot be combined with audience, scope or another name" }],
    ["an unknown parameter", "/v1/token?audience=a&foo=1&bar=2", { kind: "invalid", status: 400, error: "invalid_request", description: "unknown query parameter(s): foo, bar" }],
    ["an audience with a control character", "/v1/token?audience=a%0Ab", { kind: "invalid", status: 400, error: "invalid_target", description: "audience contains whitespace or non-printable characters" }],
    ["a bad scope", "/v1/token?audience=a&scope=%22q%22", { kind: "invalid", status: 400, error: "invalid_scope", description: 'scope "\\"q\\"" is not a valid scope token' }],
  ])("reads a token query with %s", (_case, raw, query) => {
    expect(parseRequestTarget(raw)).toEqual({ route: "/v1/token", query });
  });

  it("leaves the query of other routes unread", () => {
    expect(parseRequestTarget("/healthz?audience=a&audience=b")).toEqual({ route: "/healthz", query: undefined });
  });
});

describe("requestTargets", () => {
  it("gives what parseRequestTarget gives, for targets seen once, again, and after many others", () => {
    const targets = requestTargets();
    const raw = "/v1/token?audience=https%3A%2F%2Fp.example&scope=read";
    expect(targets(raw)).toEqual(parseRequestTarget(raw));
    expect(targets(raw)).toBe(targets(raw));
    for (let i = 0; i < 300; i++) expect(targets(`/v1/token?audience=a${i}`)).toEqual(parseRequestTarget(`/v1/token?audience=a${i}`));
    expect(targets(raw)).toEqual(parseRequestTarget(raw));
  });

  it("parses a very long target every time instead of holding it", () => {
    const targets = requestTargets();
    const raw = `/v1/token?audience=${"a".repeat(4000)}`;
    const first = targets(raw);
    expect(first).toEqual(parseRequestTarget(raw));
    expect(targets(raw)).not.toBe(first);
  });

  it("passes URL parsing errors through and remembers nothing for them", () => {
    const targets = requestTargets();
    expect(() => targets("http://[::1")).toThrow(TypeError);
    expect(() => targets("http://[::1")).toThrow(TypeError);
  });
});
