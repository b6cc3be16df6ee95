// Decision records and denial Events of a real run: one Event per (pod, reason) not a storm, and no token or key in any log line.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_TESSERA_AUDIENCE, GRANT_TYPE_TOKEN_EXCHANGE, PATH_INTROSPECT, TOKEN_TYPE_JWT } from "../../../api/constants.ts";
import type { TokenExchangeResponse } from "../../../api/exchange.ts";
import type { TokenPolicy } from "../../../api/token-policy.ts";
import { SECRET_KEYS_ENTRY, decodeKeyRecords } from "../../../controller/src/issuer/keys/key-store.ts";
import { SECRET_SIGNING_KEYS } from "../../../api/constants.ts";
import { createPod, createServiceAccount, freshNamespace, kubeClients, mintProjectedToken, waitFor } from "../support/index.ts";
import { call, exchange } from "./exchange-harness.ts";
import { createTokenPolicy, startAuditIssuer, type AuditIssuer } from "./introspect-harness.ts";

function policy(namespace: string): TokenPolicy {
  return {
    apiVersion: "tessera.dev/v1alpha1",
    kind: "TokenPolicy",
    metadata: { name: "ledger", namespace },
    spec: { owner: { team: "payments" }, subjects: { serviceAccounts: ["api"] }, audiences: ["ledger"], scopes: { allowed: ["read"] }, ttlSeconds: 300 },
  };
}

describe("decision records and denial events of a real run", () => {
  let audit: AuditIssuer;
  let ns: string;
  let projected: string;
  const minted: string[] = [];

  beforeAll(async () => {
    audit = await startAuditIssuer();
    ns = await freshNamespace("logs");
    await createServiceAccount(ns, "api");
    await waitFor(() => createTokenPolicy(policy(ns)).then(() => true));
    await audit.reloadPolicies();
    const pod = await createPod(ns, { name: "api-0", serviceAccountName: "api" });
    projected = await mintProjectedToken({ namespace: ns, serviceAccount: "api", pod, audience: DEFAULT_TESSERA_AUDIENCE });
    // Some issuance, some denials, an introspection: the run whose logs are scanned.
    for (const scope of ["read", "read"]) {
      const answer = await exchange(audit, { grant_type: GRANT_TYPE_TOKEN_EXCHANGE, subject_token: projected, subject_token_type: TOKEN_TYPE_JWT, audience: "ledger", scope });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      minted.push((answer.body as TokenExchangeResponse).access_token);
    }
    for (let i = 0; i < 10; i += 1) {
      const denied = await exchange(audit, { grant_type: GRANT_TYPE_TOKEN_EXCHANGE, subject_token: projected, subject_token_type: TOKEN_TYPE_JWT, audience: "ledger", scope: "write" });
      expect(denied.status).toBe(400);
    }
    await call(audit, PATH_INTROSPECT, {
      method: "POST",
      body: new URLSearchParams({ token: minted[0] ?? "" }).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Bearer ${audit.auditorToken}` },
    });
    await audit.events.flush();
  });

  afterAll(async () => {
    await audit.stop();
  });

  it("writes one decision record per decision with the jti as decision id", () => {
    const records = audit
      .logText()
      .split("\n")
      .filter((line) => line.includes('"msg":"token decision"'))
      .map((line) => JSON.parse(line) as { decisionId: string; allowed: boolean; reason?: string });
    expect(records.filter((r) => r.allowed)).toHaveLength(2);
    expect(records.filter((r) => !r.allowed && r.reason === "ScopeNotAllowed")).toHaveLength(10);
    const jtis = minted.map((t) => (JSON.parse(Buffer.from(t.split(".")[1] ?? "", "base64url").toString()) as { jti: string }).jti);
    expect(records.filter((r) => r.allowed).map((r) => r.decisionId)).toEqual(jtis);
  });

  it("creates one Event on the pod for ten identical denials", async () => {
    const events = await waitFor(async () => {
      const list = await kubeClients().core.listNamespacedEvent({ namespace: ns, fieldSelector: "involvedObject.name=api-0" });
      return list.items.length > 0 ? list.items : undefined;
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "Warning", reason: "ScopeNotAllowed", involvedObject: { kind: "Pod", name: "api-0" } });
  });

  it("never writes a token or a key to the logs", async () => {
    const text = audit.logText();
    expect(text.length).toBeGreaterThan(0);
    for (const token of [...minted, projected, audit.auditorToken]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(token.split(".")[2]);
    }
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{4,}\./);
    expect(text).not.toContain("-----BEGIN");
    const secret = await kubeClients().core.readNamespacedSecret({ namespace: audit.namespace, name: SECRET_SIGNING_KEYS });
    const records = decodeKeyRecords(secret.data?.[SECRET_KEYS_ENTRY] ?? "");
    expect(records.length).toBeGreaterThan(0);
    for (const record of records) {
      const body = record.privateKeyPem.split("\n").filter((l) => l !== "" && !l.startsWith("-----")).join("");
      expect(text).not.toContain(body.slice(0, 40));
    }
  });
});
