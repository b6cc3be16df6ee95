// TokenReview mode through an apiserver that stops answering: known pods keep getting tokens, new ones get a fast 503.
import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { AuthenticationV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_TESSERA_AUDIENCE, GRANT_TYPE_TOKEN_EXCHANGE, TOKEN_TYPE_JWT } from "../../../api/constants.ts";
import type { TokenPolicy } from "../../../api/token-policy.ts";
import { clientNodeTokenReviewer, TOKEN_REVIEW_DEADLINE_MS } from "../../../controller/src/issuer/subject/token-review-verifier.ts";
import { adminKubeConfig, createPod, createServiceAccount, freshNamespace, mintProjectedToken, waitFor } from "../support/index.ts";
import { exchange, startTestIssuer, type HttpAnswer, type TestIssuer } from "./exchange-harness.ts";

/**
 * A TCP relay to the apiserver that can freeze: it keeps accepting connections and holding the bytes both ways, as
 * a SIGSTOPped apiserver does (the kernel completes handshakes, nobody answers). Only TokenReviews go through it;
 * the issuer's pod reads stand for the controller's informer cache, which keeps its last state through an outage.
 */
class FreezableRelay {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #held: (() => void)[] = [];
  #frozen = false;
  /** Connections the issuer closed while frozen: an abandoned request it aborted rather than left hanging. */
  closedWhileFrozen = 0;

  constructor(target: { host: string; port: number }) {
    this.#server = createServer((client) => {
      const upstream = connect(target.port, target.host);
      client.on("close", () => {
        if (this.#frozen) this.closedWhileFrozen += 1;
      });
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on("close", () => this.#sockets.delete(socket));
        socket.on("error", () => undefined);
      }
      const relay = (from: Socket, to: Socket): void => {
        from.on("data", (chunk: Buffer) => {
          if (this.#frozen) this.#held.push(() => to.write(chunk));
          else to.write(chunk);
        });
        from.on("end", () => to.end());
      };
      relay(client, upstream);
      relay(upstream, client);
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return (this.#server.address() as AddressInfo).port;
  }

  freeze(): void {
    this.#frozen = true;
  }

  thaw(): void {
    this.#frozen = false;
    for (const flush of this.#held.splice(0)) flush();
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => {
      this.#server.close(() => {
        resolve();
      });
    });
  }
}

function policy(namespace: string): TokenPolicy {
  return {
    apiVersion: "tessera.dev/v1alpha1",
    kind: "TokenPolicy",
    metadata: { name: "api", namespace, generation: 1 },
    spec: { owner: { team: "payments" }, subjects: { serviceAccounts: ["api"] }, audiences: ["payments"], ttlSeconds: 300 },
  };
}

function form(subject: string): Record<string, string> {
  return { grant_type: GRANT_TYPE_TOKEN_EXCHANGE, subject_token: subject, subject_token_type: TOKEN_TYPE_JWT, audience: "payments" };
}

async function timed(run: () => Promise<HttpAnswer>): Promise<{ answer: HttpAnswer; ms: number }> {
  const started = performance.now();
  const answer = await run();
  return { answer, ms: Math.round(performance.now() - started) };
}

describe("token exchange in TokenReview mode while the apiserver does not answer", () => {
  let relay: FreezableRelay;
  let issuer: TestIssuer;
  let known: string;
  let fresh: string;

  beforeAll(async () => {
    const base = adminKubeConfig();
    const cluster = base.getCurrentCluster();
    const user = base.getCurrentUser();
    if (cluster === null || user === null) throw new Error("the admin kubeconfig names no cluster or user");
    const server = new URL(cluster.server);
    relay = new FreezableRelay({ host: server.hostname, port: Number(server.port) });
    const relayPort = await relay.listen();
    const viaRelay = new KubeConfig();
    viaRelay.loadFromClusterAndUser({ ...cluster, server: `https://${server.hostname}:${relayPort}` }, user);

    const ns = await freshNamespace("outage-review");
    await createServiceAccount(ns, "api");
    const mint = async (name: string): Promise<string> => {
      const pod = await createPod(ns, { name, serviceAccountName: "api" });
      return mintProjectedToken({ namespace: ns, serviceAccount: "api", pod, audience: DEFAULT_TESSERA_AUDIENCE });
    };
    known = await mint("known-0");
    fresh = await mint("fresh-0");
    issuer = await startTestIssuer({
      policies: [policy(ns)],
      subjectVerification: "tokenreview",
      tokenReviewer: clientNodeTokenReviewer(viaRelay.makeApiClient(AuthenticationV1Api)),
    });
  });

  afterAll(async () => {
    await issuer.stop();
    await relay.close();
  });

  it("keeps issuing to a pod already reviewed, answers a new one temporarily_unavailable within the deadline, and recovers", async () => {
    expect((await exchange(issuer, form(known))).status).toBe(200);

    relay.freeze();
    const during: number[] = [];
    const latencies: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const { answer, ms } = await timed(() => exchange(issuer, form(known)));
      during.push(answer.status);
      latencies.push(ms);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(during).toEqual([200, 200, 200, 200, 200]);

    const refused = await timed(() => exchange(issuer, form(fresh)));
    expect(refused.answer.status).toBe(503);
    expect(refused.answer.body).toMatchObject({ error: "temporarily_unavailable" });
    expect((refused.answer.body as { error_description: string }).error_description).toContain("did not answer the TokenReview");
    // Bounded, not a hang: the deadline plus room for a loaded machine.
    process.stderr.write(`apiserver-outage (tokenreview): known pod during the outage ${latencies.join(",")} ms; refused in ${refused.ms} ms\n`);
    expect(refused.ms).toBeGreaterThanOrEqual(TOKEN_REVIEW_DEADLINE_MS - 100);
    expect(refused.ms).toBeLessThan(TOKEN_REVIEW_DEADLINE_MS + 5_000);

    // The abandoned TokenReview was aborted, not left holding a connection to the silent apiserver.
    await waitFor(() => relay.closedWhileFrozen >= 1, { timeoutMs: 5_000, description: "the abandoned review's connection closed" });

    relay.thaw();
    expect((await exchange(issuer, form(fresh))).status).toBe(200);
    expect((await exchange(issuer, form(known))).status).toBe(200);
  }, 60_000);
});
