// The controller's client-node API clients reuse one keep-alive TLS connection to the real apiserver and still authenticate.
import type { Socket } from "node:net";
import { AuthenticationV1Api, CoreV1Api } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { clientNodeTokenReviewer } from "../../../controller/src/issuer/subject/token-review-verifier.ts";
import { AgentCache } from "../../../controller/src/kube/agent-cache.ts";
import { makeReusingApiClient } from "../../../controller/src/kube/reusing-api-client.ts";
import { kubeClients, waitFor } from "../support/index.ts";

/** The idle keep-alive sockets of the agent the cache handed out last. */
function idleSockets(agents: AgentCache): Socket[] {
  return Object.values(agents.current?.freeSockets ?? {}).flatMap((sockets) => sockets ?? []);
}

async function afterRequestSettles(agents: AgentCache): Promise<Socket[]> {
  // A finished response hands its socket back to the agent's free list on the next turn of the event loop.
  return waitFor(() => (idleSockets(agents).length > 0 ? idleSockets(agents) : undefined), { timeoutMs: 5_000, intervalMs: 10, description: "an idle keep-alive socket" });
}

describe("client-node API clients over reused connections", () => {
  it("sends consecutive requests over one TLS connection", async () => {
    const agents = new AgentCache();
    const core = makeReusingApiClient(kubeClients().kubeConfig, CoreV1Api, agents);
    await core.listNamespace({ limit: 1 });
    const [first, ...others] = await afterRequestSettles(agents);
    expect(others).toHaveLength(0);
    await core.readNamespace({ name: "default" });
    await core.listNamespace({ limit: 1 });
    const after = await afterRequestSettles(agents);
    expect(after).toEqual([first]);
  });

  it("still authenticates every request: a TokenReview is answered, and a bad token is reported unauthenticated", async () => {
    const agents = new AgentCache();
    const reviewer = clientNodeTokenReviewer(makeReusingApiClient(kubeClients().kubeConfig, AuthenticationV1Api, agents));
    for (let i = 0; i < 3; i++) {
      const result = await reviewer.review("not-a-token", ["tessera"]);
      expect(result.authenticated).toBe(false);
    }
    expect(await afterRequestSettles(agents)).toHaveLength(1);
  });
});
