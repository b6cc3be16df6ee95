// Audit endpoint callers: bearer parsing, service-account identity, allowlist per operation, TokenReview caching.

import { describe, expect, it } from "vitest";
import {
  CallerAuthenticator,
  bearerToken,
  checkAllowlist,
  isAllowed,
  serviceAccountOf,
  type CallerAllowlist,
} from "../../../../controller/src/issuer/audit/caller-auth.ts";
import { IssuerError } from "../../../../controller/src/issuer/errors.ts";
import { isAuditEndpointError, type AuditEndpointErrorCode } from "../../../../controller/src/issuer/audit/errors.ts";
import type { TokenReviewResult, TokenReviewer } from "../../../../controller/src/issuer/subject/token-review-verifier.ts";

const AUDIENCE = "tessera.dev/issuer";
const allowlist: CallerAllowlist = { introspect: ["ledger/api", "ops/*"], revoke: ["ops/*"], explain: [] };

class ScriptedReviewer implements TokenReviewer {
  calls = 0;
  readonly #answers: Readonly<Record<string, TokenReviewResult | "down">>;
  constructor(answers: Readonly<Record<string, TokenReviewResult | "down">>) {
    this.#answers = answers;
  }
  review(token: string): Promise<TokenReviewResult> {
    this.calls += 1;
    const answer = this.#answers[token];
    if (answer === "down") return Promise.reject(new IssuerError("UpstreamUnavailable", "no apiserver"));
    return Promise.resolve(answer ?? { authenticated: false, audiences: [], extra: {} });
  }
}

const ok = (username: string, audiences = [AUDIENCE]): TokenReviewResult => ({ authenticated: true, audiences, username, extra: {} });

async function codeOf(promise: Promise<unknown>): Promise<AuditEndpointErrorCode | "ok"> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    if (isAuditEndpointError(error)) return error.code;
    throw error;
  }
}

describe("caller authentication", () => {
  it.each([
    ["a bearer header", "Bearer abc.def.ghi", "abc.def.ghi"],
    ["a lower-case scheme", "bearer abc", "abc"],
    ["basic auth", "Basic dXNlcjpwYXNz", undefined],
    ["an empty bearer", "Bearer ", undefined],
    ["no header", undefined, undefined],
    ["a token with spaces", "Bearer a b", undefined],
  ])("reads %s", (_name, header, token) => {
    expect(bearerToken(header)).toBe(token);
  });

  it.each([
    ["a service account", "system:serviceaccount:ledger:api", { namespace: "ledger", name: "api" }],
    ["a person", "alice@example.com", undefined],
    ["a node", "system:node:node-1", undefined],
    ["a malformed service account", "system:serviceaccount:ledger", undefined],
  ])("identifies %s", (_name, username, caller) => {
    expect(serviceAccountOf(username)).toEqual(caller);
  });

  it.each([
    ["an exact entry", "introspect", { namespace: "ledger", name: "api" }, true],
    ["a namespace wildcard", "introspect", { namespace: "ops", name: "anyone" }, true],
    ["another account of a named namespace", "introspect", { namespace: "ledger", name: "other" }, false],
    ["an operation with an empty list", "explain", { namespace: "ops", name: "x" }, false],
  ] as const)("decides %s", (_name, operation, caller, allowed) => {
    expect(isAllowed(allowlist, operation, caller)).toBe(allowed);
  });

  it("rejects malformed allowlist entries at construction, naming them", () => {
    expect(() => checkAllowlist({ introspect: ["*"], revoke: ["Ops/x"], explain: [] })).toThrow(/introspect: "\*", revoke: "Ops\/x"/);
  });

  it.each([
    ["no header", undefined, "Unauthenticated"],
    ["a token the apiserver refuses", "Bearer bad", "Unauthenticated"],
    ["a token for another audience", "Bearer elsewhere", "Unauthenticated"],
    ["a user that is not a service account", "Bearer person", "Unauthenticated"],
    ["an allowed service account", "Bearer ledger-api", "ok"],
    ["a service account not on the list", "Bearer ledger-other", "Forbidden"],
    ["an apiserver that does not answer", "Bearer down", "AuthenticationUnavailable"],
  ])("answers %s with %s", async (_name, header, code) => {
    const reviewer = new ScriptedReviewer({
      elsewhere: ok("system:serviceaccount:ledger:api", ["https://kubernetes.default.svc"]),
      person: ok("alice"),
      "ledger-api": ok("system:serviceaccount:ledger:api"),
      "ledger-other": ok("system:serviceaccount:ledger:other"),
      down: "down",
    });
    const auth = new CallerAuthenticator({ reviewer, audience: AUDIENCE, allowlist, now: () => new Date(0) });
    expect(await codeOf(auth.authenticate(header, "introspect"))).toBe(code);
  });

  it("reuses a TokenReview for a few seconds, then asks again", async () => {
    let ms = 0;
    const reviewer = new ScriptedReviewer({ t: ok("system:serviceaccount:ops:bot") });
    const auth = new CallerAuthenticator({ reviewer, audience: AUDIENCE, allowlist, now: () => new Date(ms), cacheSeconds: 10 });
    await auth.authenticate("Bearer t", "revoke");
    await auth.authenticate("Bearer t", "introspect");
    expect(reviewer.calls).toBe(1);
    ms = 11_000;
    await auth.authenticate("Bearer t", "revoke");
    expect(reviewer.calls).toBe(2);
  });

  it("authorises per operation even when the identity is cached", async () => {
    const reviewer = new ScriptedReviewer({ t: ok("system:serviceaccount:ledger:api") });
    const auth = new CallerAuthenticator({ reviewer, audience: AUDIENCE, allowlist, now: () => new Date(0) });
    expect(await codeOf(auth.authenticate("Bearer t", "introspect"))).toBe("ok");
    expect(await codeOf(auth.authenticate("Bearer t", "revoke"))).toBe("Forbidden");
  });

  it("refuses an operation whose allowlist is empty without asking the apiserver, whatever the token", async () => {
    const reviewer = new ScriptedReviewer({ "ledger-api": ok("system:serviceaccount:ledger:api") });
    const auth = new CallerAuthenticator({ reviewer, audience: AUDIENCE, allowlist, now: () => new Date(0) });
    for (let i = 0; i < 1000; i++) expect(await codeOf(auth.authenticate(`Bearer garbage${String(i)}`, "explain"))).toBe("Forbidden");
    expect(await codeOf(auth.authenticate("Bearer ledger-api", "explain"))).toBe("Forbidden");
    expect(reviewer.calls).toBe(0);
  });

  it("refuses a token the apiserver refused again for a few seconds without asking, then asks again", async () => {
    let ms = 0;
    const reviewer = new ScriptedReviewer({});
    const auth = new CallerAuthenticator({ reviewer, audience: AUDIENCE, allowlist, now: () => new Date(ms), refusedCacheSeconds: 10 });
    for (let i = 0; i < 100; i++) expect(await codeOf(auth.authenticate("Bearer garbage", "introspect"))).toBe("Unauthenticated");
    expect(reviewer.calls).toBe(1);
    ms = 11_000;
    expect(await codeOf(auth.authenticate("Bearer garbage", "introspect"))).toBe("Unauthenticated");
    expect(reviewer.calls).toBe(2);
  });

  it("never remembers an apiserver that did not answer", async () => {
    const reviewer = new ScriptedReviewer({ down: "down" });
    const auth = new CallerAuthenticator({ reviewer, audience: AUDIENCE, allowlist, now: () => new Date(0) });
    expect(await codeOf(auth.authenticate("Bearer down", "introspect"))).toBe("AuthenticationUnavailable");
    expect(await codeOf(auth.authenticate("Bearer down", "introspect"))).toBe("AuthenticationUnavailable");
    expect(reviewer.calls).toBe(2);
  });

  it("gives up on an apiserver that never answers after the deadline, aborting the review, and answers 503", async () => {
    let aborted = false;
    const hanging: TokenReviewer = {
      review: (_token, _audiences, signal) =>
        new Promise(() => {
          signal?.addEventListener("abort", () => {
            aborted = true;
          });
        }),
    };
    const auth = new CallerAuthenticator({ reviewer: hanging, audience: AUDIENCE, allowlist, now: () => new Date(0), deadlineMs: 20 });
    expect(await codeOf(auth.authenticate("Bearer t", "introspect"))).toBe("AuthenticationUnavailable");
    expect(aborted).toBe(true);
  });
});
