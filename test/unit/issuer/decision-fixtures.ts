// Decisions and subjects for the audit tests: one allowed and one denied decision with every field filled.

import type { AllowedDecision, DeniedDecision, Subject } from "../../../controller/src/policy/types.ts";

export const subject: Subject = {
  serviceAccount: { namespace: "payments", name: "api" },
  namespace: { name: "payments", labels: { "tessera.dev/tenant": "acme" } },
  pod: {
    name: "api-7d9f",
    uid: "0b7f6c1e-1111-4a2b-9c3d-000000000001",
    labels: { app: "api" },
    annotations: { "tessera.dev/audiences": "https://ledger.example" },
    nodeName: "node-1",
    owner: { apiVersion: "apps/v1", kind: "ReplicaSet", name: "api-7d" },
  },
  cluster: { name: "east-1", environment: "prod" },
  actors: [],
};

export const allowed: AllowedDecision = {
  id: "jti-allowed-1",
  at: "2026-11-23T01:00:00.000Z",
  subject,
  request: { audiences: ["https://ledger.example"], scopes: ["ledger.read"] },
  evaluations: [
    {
      policy: { kind: "TokenPolicy", namespace: "payments", name: "ledger", generation: 3 },
      selected: true,
      audienceAllowed: true,
      conditions: [{ name: "production-only", passed: true }],
    },
    {
      policy: { kind: "ClusterTokenPolicy", name: "baseline", generation: 1 },
      selected: false,
      audienceAllowed: false,
      conditions: [],
      skippedBecause: "namespaceSelector does not match",
    },
  ],
  audiences: [],
  allowed: true,
  policy: { kind: "TokenPolicy", namespace: "payments", name: "ledger", generation: 3 },
  grant: {
    audiences: ["https://ledger.example"],
    scopes: ["ledger.read"],
    ttlSeconds: 300,
    claims: { tenant: "acme" },
    clamps: ["ttl clamped to 300s by ClusterTokenPolicy/baseline"],
  },
};

export const denied: DeniedDecision = {
  deniedBy: "caller",
  audiences: [],
  id: "decision-denied-1",
  at: "2026-11-23T01:00:00.000Z",
  subject,
  request: { audiences: ["https://ledger.example"], scopes: ["ledger.write"] },
  evaluations: [
    {
      policy: { kind: "TokenPolicy", namespace: "payments", name: "ledger", generation: 3 },
      selected: true,
      audienceAllowed: true,
      conditions: [{ name: "production-only", passed: false, message: "only in prod" }],
    },
  ],
  allowed: false,
  reason: "ScopeNotAllowed",
  message: "scope ledger.write is not allowed by TokenPolicy/payments/ledger",
  policy: { kind: "TokenPolicy", namespace: "payments", name: "ledger", generation: 3 },
};

/** A string that has the shape of a signed JWT (header.payload.signature), for redaction tests. */
export const jwtShaped =
  "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6cDphIn0.c2lnbmF0dXJlLWJ5dGVz";
export const pemShaped = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----";
