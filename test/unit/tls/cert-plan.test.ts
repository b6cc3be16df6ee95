// The webhook certificate renewal planner, with a fixed clock.
import { describe, expect, it } from "vitest";
import { planWebhookTls, type PlanAction, type StoredWebhookTls } from "../../../controller/src/tls/cert-plan.ts";

const DAY = 24 * 60 * 60 * 1000;
const t0 = new Date("2026-01-01T00:00:00Z");
const at = (days: number): Date => new Date(t0.getTime() + days * DAY);

function stored(overrides: { caDays?: number; servingStart?: number; servingDays?: number; byCurrentCa?: boolean; dns?: string[] } = {}): StoredWebhookTls {
  const servingStart = overrides.servingStart ?? 0;
  return {
    ca: { notBefore: t0, notAfter: at(overrides.caDays ?? 365) },
    serving: {
      notBefore: at(servingStart),
      notAfter: at(servingStart + (overrides.servingDays ?? 30)),
      dnsNames: overrides.dns ?? ["tessera-webhook.tessera.svc"],
      ipAddresses: ["127.0.0.1"],
      issuedByCurrentCa: overrides.byCurrentCa ?? true,
    },
  };
}

describe("planWebhookTls", () => {
  it.each<[string, StoredWebhookTls | undefined, Date, boolean, PlanAction]>([
    ["issues everything when nothing is stored", undefined, at(0), true, "issue-all"],
    ["does nothing while both certificates are young", stored(), at(5), true, "none"],
    ["renews the serving certificate at two thirds of its lifetime", stored(), at(20), true, "renew-serving"],
    ["renews an expired serving certificate", stored(), at(31), true, "renew-serving"],
    ["rotates the CA at two thirds of its lifetime", stored({ servingStart: 240 }), at(244), true, "rotate-ca"],
    ["issues everything once the CA expired", stored(), at(366), true, "issue-all"],
    ["renews a serving certificate from the previous CA once the new CA is trusted", stored({ byCurrentCa: false }), at(5), true, "renew-serving"],
    ["waits for the new CA to be trusted before switching the serving certificate", stored({ byCurrentCa: false }), at(5), false, "none"],
    ["renews when the service name changed", stored({ dns: ["old.tessera.svc"] }), at(5), true, "renew-serving"],
  ])("%s", (_name, current, now, installed, action) => {
    const plan = planWebhookTls({ stored: current, dnsNames: ["tessera-webhook.tessera.svc"], ipAddresses: ["127.0.0.1"], caBundleInstalled: installed, now });
    expect(plan.action).toBe(action);
  });

  it("asks to be run again at the serving certificate's renewal point", () => {
    const plan = planWebhookTls({ stored: stored(), dnsNames: ["tessera-webhook.tessera.svc"], ipAddresses: ["127.0.0.1"], caBundleInstalled: true, now: at(1) });
    expect(plan.nextCheckAt).toEqual(at(20));
  });
});
