// Introspection and revocation against the real control plane: real projected tokens, pods, TokenPolicies and TokenReview.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  API_GROUP,
  API_VERSION,
  CONFIGMAP_REVOCATIONS,
  DEFAULT_TESSERA_AUDIENCE,
  GRANT_TYPE_TOKEN_EXCHANGE,
  PATH_INTROSPECT,
  PATH_REVOKE,
  RESOURCE_TOKEN_POLICIES,
  TOKEN_TYPE_JWT,
} from "../../../api/constants.ts";
import type { TokenExchangeResponse } from "../../../api/exchange.ts";
import type { TokenPolicy } from "../../../api/token-policy.ts";
import { RevocationStore } from "../../../controller/src/issuer/audit/revocation.ts";
import { pino } from "pino";
import { createPod, createServiceAccount, deletePod, freshNamespace, kubeClients, mintProjectedToken, waitFor } from "../support/index.ts";
import { call, exchange } from "./exchange-harness.ts";
import { createTokenPolicy, startAuditIssuer, type AuditIssuer } from "./introspect-harness.ts";

function ledgerPolicy(namespace: string): TokenPolicy {
  return {
    apiVersion: "tessera.dev/v1alpha1",
    kind: "TokenPolicy",
    metadata: { name: "ledger", namespace },
    spec: {
      owner: { team: "payments" },
      subjects: { serviceAccounts: ["api"] },
      audiences: ["ledger"],
      scopes: { allowed: ["read"], default: ["read"] },
      ttlSeconds: 300,
    },
  };
}

function form(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

describe("introspection and revocation against the real control plane", () => {
  let audit: AuditIssuer;
  let ns: string;

  /** A fresh pod of service account "api" and a Tessera token minted for it. */
  async function tokenFor(podName: string): Promise<{ token: string; projected: string }> {
    const pod = await createPod(ns, { name: podName, serviceAccountName: "api" });
    const projected = await mintProjectedToken({ namespace: ns, serviceAccount: "api", pod, audience: DEFAULT_TESSERA_AUDIENCE });
    const answer = await exchange(audit, {
      grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
      subject_token: projected,
      subject_token_type: TOKEN_TYPE_JWT,
      audience: "ledger",
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return { token: (answer.body as TokenExchangeResponse).access_token, projected };
  }

  /** `bearer` null sends no Authorization header. */
  function introspect(token: string, bearer: string | null = audit.auditorToken) {
    return call(audit, PATH_INTROSPECT, {
      method: "POST",
      body: form({ token, token_type_hint: "access_token" }),
      headers: { "content-type": "application/x-www-form-urlencoded", ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }) },
    });
  }

  beforeAll(async () => {
    audit = await startAuditIssuer();
    ns = await freshNamespace("ledger");
    await createServiceAccount(ns, "api");
    await waitFor(() => createTokenPolicy(ledgerPolicy(ns)).then(() => true));
    await audit.reloadPolicies();
  });

  afterAll(async () => {
    await audit.stop();
  });

  it("answers an active token with its claims for an allowlisted caller", async () => {
    const { token } = await tokenFor("api-active");
    const answer = await introspect(token);
    expect(answer.status).toBe(200);
    expect(answer.headers["cache-control"]).toBe("no-store");
    expect(answer.body).toMatchObject({ active: true, sub: `system:serviceaccount:${ns}:api`, aud: "ledger", scope: "read", iss: audit.url });
  });

  it("refuses a caller without a bearer token (401) and one not on the allowlist (403)", async () => {
    const { token, projected } = await tokenFor("api-callers");
    const anonymous = await introspect(token, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers["www-authenticate"]).toMatch(/^Bearer/);
    expect(anonymous.body).toMatchObject({ error: "invalid_client" });
    // A real service-account token of a workload that is not on the allowlist.
    const stranger = await introspect(token, projected);
    expect(stranger.status).toBe(403);
    expect(stranger.body).toMatchObject({ error: "access_denied" });
  });

  it("answers exactly {active:false} for a projected service-account token (the kinds never mix)", async () => {
    const { projected } = await tokenFor("api-kinds");
    const answer = await introspect(projected);
    expect(answer.body).toStrictEqual({ active: false });
  });

  it("answers inactive once the pod is deleted", async () => {
    const { token } = await tokenFor("api-deleted");
    expect((await introspect(token)).body).toMatchObject({ active: true });
    await deletePod(ns, "api-deleted");
    await waitFor(async () => {
      expect((await introspect(token)).body).toStrictEqual({ active: false });
      return true;
    });
  });

  it("answers inactive once the policy's revokeBefore is later than the token's iat", async () => {
    const own = await freshNamespace("revoke-before");
    await createServiceAccount(own, "api");
    await waitFor(() => createTokenPolicy(ledgerPolicy(own)).then(() => true));
    await audit.reloadPolicies();
    const pod = await createPod(own, { name: "api-0", serviceAccountName: "api" });
    const projected = await mintProjectedToken({ namespace: own, serviceAccount: "api", pod, audience: DEFAULT_TESSERA_AUDIENCE });
    const answer = await exchange(audit, { grant_type: GRANT_TYPE_TOKEN_EXCHANGE, subject_token: projected, subject_token_type: TOKEN_TYPE_JWT, audience: "ledger" });
    const token = (answer.body as TokenExchangeResponse).access_token;
    expect((await introspect(token)).body).toMatchObject({ active: true });
    const { iat } = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { iat: number };
    await kubeClients().custom.patchNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      plural: RESOURCE_TOKEN_POLICIES,
      namespace: own,
      name: "ledger",
      body: [{ op: "add", path: "/spec/revokeBefore", value: new Date((iat + 1) * 1000).toISOString() }],
    });
    expect((await introspect(token)).body).toStrictEqual({ active: false });
  });

  it("answers inactive after the jti is revoked, and another replica learns it from the ConfigMap", async () => {
    const { token } = await tokenFor("api-revoked");
    const jti = (JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { jti: string }).jti;
    const revoke = await call(audit, PATH_REVOKE, {
      method: "POST",
      body: form({ token }),
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Bearer ${audit.auditorToken}` },
    });
    expect(revoke.status, JSON.stringify(revoke.body)).toBe(200);
    expect((await introspect(token)).body).toStrictEqual({ active: false });

    const configMap = await kubeClients().core.readNamespacedConfigMap({ namespace: audit.namespace, name: CONFIGMAP_REVOCATIONS });
    expect(Object.keys(configMap.data ?? {})).toContain(jti);
    const replica = new RevocationStore({ core: kubeClients().core, namespace: audit.namespace, logger: pino({ level: "silent" }), now: () => new Date() });
    await replica.reload();
    expect(replica.isRevoked(jti)).toBe(true);
  });

  it("revokes by bare jti (from a decision record) and refuses a caller not allowed to revoke", async () => {
    const { token, projected } = await tokenFor("api-by-jti");
    const jti = (JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { jti: string }).jti;
    const refused = await call(audit, PATH_REVOKE, {
      method: "POST",
      body: form({ jti }),
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Bearer ${projected}` },
    });
    expect(refused.status).toBe(403);
    expect((await introspect(token)).body).toMatchObject({ active: true });
    const revoked = await call(audit, PATH_REVOKE, {
      method: "POST",
      body: form({ jti }),
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Bearer ${audit.auditorToken}` },
    });
    expect(revoked.status).toBe(200);
    expect((await introspect(token)).body).toStrictEqual({ active: false });
    expect(await audit.registry.metrics()).toMatch(/tessera_introspections_total\{result="inactive",reason="revoked"\} [1-9]/);
  });
});
