// Webhook PKI: a CA and a serving certificate the planner reads back correctly.
import { describe, expect, it } from "vitest";
import { createServingCertificate, createWebhookCa, joinBundle, readStoredFacts, splitPemBundle } from "../../../controller/src/tls/pki.ts";

const DAY = 24 * 60 * 60 * 1000;
const now = new Date();

describe("webhook PKI", () => {
  it("issues a serving certificate with the service DNS name and 127.0.0.1, signed by the CA", async () => {
    const ca = await createWebhookCa(now, 365 * DAY, "test CA");
    const serving = await createServingCertificate({ ca, dnsNames: ["hook.tessera.svc"], ipAddresses: ["127.0.0.1"], now, lifetimeMs: 30 * DAY });
    const facts = await readStoredFacts(ca.certPem, serving.certPem);
    expect(facts.serving.dnsNames).toEqual(["hook.tessera.svc"]);
    expect(facts.serving.ipAddresses).toEqual(["127.0.0.1"]);
    expect(facts.serving.issuedByCurrentCa).toBe(true);
    expect(facts.serving.notAfter.getTime()).toBeLessThanOrEqual(now.getTime() + 30 * DAY);
  });

  it("tells a serving certificate from the previous CA apart", async () => {
    const oldCa = await createWebhookCa(now, 365 * DAY, "old CA");
    const newCa = await createWebhookCa(now, 365 * DAY, "new CA");
    const serving = await createServingCertificate({ ca: oldCa, dnsNames: ["h"], ipAddresses: [], now, lifetimeMs: DAY });
    const facts = await readStoredFacts(joinBundle(newCa.certPem, [oldCa.certPem], now), serving.certPem);
    expect(facts.serving.issuedByCurrentCa).toBe(false);
  });

  it("keeps the previous CA in the bundle after the new one and drops duplicates", async () => {
    const a = await createWebhookCa(now, DAY, "a");
    const b = await createWebhookCa(now, DAY, "b");
    expect(splitPemBundle(joinBundle(b.certPem, [b.certPem, a.certPem], now))).toHaveLength(2);
  });

  it("drops expired CAs from the bundle", async () => {
    const expired = await createWebhookCa(new Date(now.getTime() - 10 * DAY), DAY, "expired");
    const current = await createWebhookCa(now, DAY, "current");
    expect(splitPemBundle(joinBundle(current.certPem, [expired.certPem], now))).toHaveLength(1);
  });
});
