// Optional live checks: the issuer is asked only about tokens that passed every offline check, answers are cached
// briefly by jti, an inactive token is refused, and an unreachable issuer fails closed.
import { describe, expect, it } from "vitest";
import { isVerifyError, type VerifyErrorCode } from "../../../verify/index.ts";
import { API_URL, testIssuer, verifierFor } from "./fixtures.ts";

let clock = new Date("2026-12-03T12:00:00Z").getTime();
const now = (): Date => new Date(clock);

async function codeOf(promise: Promise<unknown>): Promise<VerifyErrorCode | "passed"> {
  try {
    await promise;
    return "passed";
  } catch (error) {
    if (isVerifyError(error)) return error.code;
    throw error;
  }
}

describe("introspection", async () => {
  const issuer = await testIssuer(now);

  function withIntrospection(answer: () => Response | Promise<Response>) {
    const asked: { authorization: string | null; body: string }[] = [];
    const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : input.toString());
      if (url.pathname === "/v1/introspect") {
        asked.push({ authorization: new Headers(init?.headers).get("authorization"), body: typeof init?.body === "string" ? init.body : "" });
        return answer();
      }
      return issuer.fetch(input, init);
    }) as typeof fetch;
    const verifier = verifierFor({ ...issuer, fetch: fetchImpl }, now, { fetch: fetchImpl, introspection: { credentials: () => "caller-token", cacheSeconds: 5 } });
    const request = (token: string) => verifier.verifyRequest({ authorization: `Bearer ${token}`, dpop: undefined, method: "GET", url: API_URL });
    return { asked, request };
  }

  it("asks the discovered endpoint with the API's own credential, once per token within the cache time", async () => {
    const { asked, request } = withIntrospection(() => Response.json({ active: true }));
    const token = await issuer.mint();
    expect(await codeOf(request(token))).toBe("passed");
    expect(await codeOf(request(token))).toBe("passed");
    expect(asked).toHaveLength(1);
    expect(asked[0]?.authorization).toBe("Bearer caller-token");
    expect(new URLSearchParams(asked[0]?.body).get("token")).toBe(token);
    clock += 6_000;
    expect(await codeOf(request(token))).toBe("passed");
    expect(asked).toHaveLength(2);
  });

  const cases: readonly (readonly [string, () => Response | Promise<Response>, VerifyErrorCode])[] = [
    ["a token the issuer reports inactive is refused", () => Response.json({ active: false }), "TokenInactive"],
    ["an issuer that answers 500 fails closed", () => new Response("boom", { status: 500 }), "IntrospectionUnavailable"],
    ["an answer without active fails closed", () => Response.json({ sub: "x" }), "IntrospectionUnavailable"],
    ["an unreachable issuer fails closed", () => Promise.reject(new Error("ECONNREFUSED")), "IntrospectionUnavailable"],
  ];
  it.each(cases)("%s", async (_name, answer, code) => {
    const { request } = withIntrospection(answer);
    expect(await codeOf(request(await issuer.mint()))).toBe(code);
  });

  it("never asks about a token that fails an offline check", async () => {
    const { asked, request } = withIntrospection(() => Response.json({ active: true }));
    expect(await codeOf(request(await issuer.mint({ aud: "ledger" })))).toBe("TokenAudienceMismatch");
    expect(asked).toHaveLength(0);
  });
});
