// The Kubernetes client's connection reuse: one keep-alive agent per set of TLS material, proxy agents untouched.
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent, type RequestOptions } from "node:https";
import { describe, expect, it } from "vitest";
import { AgentCache } from "../../../controller/src/kube/agent-cache.ts";

/** What client-node's applyToHTTPSOptions leaves on the request options: a fresh agent and the TLS material. */
function applied(material: { ca?: string; cert?: string; key?: string }, agent: RequestOptions["agent"] = new HttpsAgent(material)): RequestOptions {
  return { ...material, agent };
}

class ProxyAgent extends HttpsAgent {}

const A = { ca: "ca-a", cert: "cert-a", key: "key-a" };
const B = { ca: "ca-a", cert: "cert-b", key: "key-b" };

describe("AgentCache", () => {
  it("hands out one keep-alive agent for repeated requests with the same TLS material", () => {
    const cache = new AgentCache();
    const first = applied(A);
    const second = applied(A);
    const one = cache.reuse(first.agent, first);
    const two = cache.reuse(second.agent, second);
    expect(one).toBe(two);
    expect(one).not.toBe(first.agent);
    expect(one).toBeInstanceOf(HttpsAgent);
    expect((one as HttpsAgent).options).toMatchObject({ keepAlive: true, ca: "ca-a", cert: "cert-a", key: "key-a" });
  });

  it("makes a new agent when the client certificate changes, and keeps using it", () => {
    const cache = new AgentCache();
    const before = cache.reuse(applied(A).agent, applied(A));
    const rotated = applied(B);
    const after = cache.reuse(rotated.agent, rotated);
    expect(after).not.toBe(before);
    expect((after as HttpsAgent).options).toMatchObject({ cert: "cert-b", key: "key-b" });
    expect(cache.reuse(applied(B).agent, applied(B))).toBe(after);
  });

  it.each([
    { name: "a proxy agent (a subclass) is left as client-node made it", agent: new ProxyAgent(A) },
    { name: "no agent stays no agent", agent: undefined },
    { name: "agent: false (no pooling asked for) stays false", agent: false as const },
  ])("$name", ({ agent }) => {
    const cache = new AgentCache();
    expect(cache.reuse(agent, applied(A, agent))).toBe(agent);
  });

  it("keeps plain http (a local apiserver without TLS) on a keep-alive http agent", () => {
    const cache = new AgentCache();
    const given = new HttpAgent();
    const reused = cache.reuse(given, { agent: given });
    expect(reused).toBeInstanceOf(HttpAgent);
    expect(reused).not.toBeInstanceOf(HttpsAgent);
    expect(reused).toHaveProperty("options.keepAlive", true);
  });
});
