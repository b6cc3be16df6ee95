// Pod-bound service-account tokens from the real apiserver: TokenReview, OIDC discovery + JWKS, and pod deletion.
import { readFile, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1TokenReview, V1Pod } from "@kubernetes/client-node";
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_TESSERA_AUDIENCE } from "../../../api/constants.ts";
import { httpsGet } from "../../controlplane/https-get.ts";
import {
  controlPlaneInfo,
  createPod,
  createServiceAccount,
  deletePod,
  freshNamespace,
  kubeBody,
  kubeClients,
  mintProjectedToken,
  waitFor,
  writeProjectedTokenFile,
} from "../support/index.ts";

const clients = kubeClients();

async function review(token: string, audiences: readonly string[]): Promise<V1TokenReview> {
  return clients.auth.createTokenReview({
    body: kubeBody<V1TokenReview>({ spec: { token, audiences: [...audiences] } }),
  });
}

/** GET as an anonymous relying party that trusts only the control plane's CA. */
async function anonymousJson(url: string): Promise<unknown> {
  const res = await httpsGet(url, { caPem: controlPlaneInfo().caPem });
  expect(res.status, `GET ${url}: ${res.body}`).toBe(200);
  return JSON.parse(res.body) as unknown;
}

describe("pod-bound service-account tokens", () => {
  let namespace: string;
  let pod: V1Pod;

  beforeAll(async () => {
    namespace = await freshNamespace("sa-tokens");
    await createServiceAccount(namespace, "app");
    pod = await createPod(namespace, { name: "app-0", serviceAccountName: "app" });
  });

  it("passes TokenReview for Tessera's audience and names the service account and pod", async () => {
    const token = await mintProjectedToken({ namespace, serviceAccount: "app", pod, audience: DEFAULT_TESSERA_AUDIENCE });
    const result = await review(token, [DEFAULT_TESSERA_AUDIENCE]);
    expect(result.status?.error ?? "").toBe("");
    expect(result.status?.authenticated).toBe(true);
    expect(result.status?.audiences).toEqual([DEFAULT_TESSERA_AUDIENCE]);
    expect(result.status?.user?.username).toBe(`system:serviceaccount:${namespace}:app`);
    expect(result.status?.user?.extra?.["authentication.kubernetes.io/pod-name"]).toEqual(["app-0"]);
    expect(result.status?.user?.extra?.["authentication.kubernetes.io/pod-uid"]).toEqual([pod.metadata?.uid]);
  });

  it("fails TokenReview when the token was minted for another audience", async () => {
    const token = await mintProjectedToken({ namespace, serviceAccount: "app", pod, audience: "someone-else" });
    const result = await review(token, [DEFAULT_TESSERA_AUDIENCE]);
    expect(result.status?.authenticated).not.toBe(true);
  });

  it("verifies with jose against the apiserver's own OIDC discovery and JWKS, fetched anonymously", async () => {
    const info = controlPlaneInfo();
    const token = await mintProjectedToken({ namespace, serviceAccount: "app", pod, audience: DEFAULT_TESSERA_AUDIENCE });
    const discovery = (await anonymousJson(`${info.serviceAccountIssuer}/.well-known/openid-configuration`)) as {
      issuer: string;
      jwks_uri: string;
    };
    expect(discovery.issuer).toBe(info.serviceAccountIssuer);
    expect(discovery.jwks_uri).toBe(`${info.apiserverUrl}/openid/v1/jwks`);
    const jwks = createLocalJWKSet((await anonymousJson(discovery.jwks_uri)) as JSONWebKeySet);
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: discovery.issuer,
      audience: DEFAULT_TESSERA_AUDIENCE,
      algorithms: ["RS256"],
    });
    expect(protectedHeader.alg).toBe("RS256");
    expect(payload.sub).toBe(`system:serviceaccount:${namespace}:app`);
    expect(payload["kubernetes.io"]).toMatchObject({
      namespace,
      pod: { name: "app-0", uid: pod.metadata?.uid },
      serviceaccount: { name: "app" },
    });
  });

  it("writes the projected token file the way the kubelet would: whole, owner-only", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tessera-projected-"));
    try {
      const token = await mintProjectedToken({ namespace, serviceAccount: "app", pod, audience: DEFAULT_TESSERA_AUDIENCE });
      const path = await writeProjectedTokenFile(dir, token);
      expect(await readFile(path, "utf8")).toBe(token);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("stops passing TokenReview once its pod is deleted", async () => {
    await createPod(namespace, { name: "short-lived", serviceAccountName: "app" });
    const doomed = await clients.core.readNamespacedPod({ namespace, name: "short-lived" });
    const token = await mintProjectedToken({
      namespace,
      serviceAccount: "app",
      pod: doomed,
      audience: DEFAULT_TESSERA_AUDIENCE,
    });
    expect((await review(token, [DEFAULT_TESSERA_AUDIENCE])).status?.authenticated).toBe(true);

    await deletePod(namespace, "short-lived");
    // The apiserver caches successful authentications for about ten seconds.
    const rejected = await waitFor(
      async () => {
        const result = await review(token, [DEFAULT_TESSERA_AUDIENCE]);
        return result.status?.authenticated !== true ? result : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1_000, description: "TokenReview to reject the deleted pod's token" },
    );
    expect(rejected.status?.error).toMatch(/pod|not found|invalid/i);
  });
});
