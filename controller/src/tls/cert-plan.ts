// Pure renewal planner for the webhook CA and serving certificate: what to do now and when to look again.

export interface CertificateTimes {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface ServingFacts extends CertificateTimes {
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  /** Signed by the CA currently in use (the first of the bundle). */
  readonly issuedByCurrentCa: boolean;
}

/** What the Secret holds, reduced to the facts the planner needs. */
export interface StoredWebhookTls {
  readonly ca: CertificateTimes;
  readonly serving: ServingFacts;
}

export interface PlanInput {
  /** Undefined when the Secret is missing or cannot be parsed. */
  readonly stored: StoredWebhookTls | undefined;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  /** The webhook configurations already carry the Secret's CA bundle. */
  readonly caBundleInstalled: boolean;
  readonly now: Date;
  /** Fraction of a certificate's lifetime after which it is renewed (default 2/3). */
  readonly renewAtFraction?: number;
}

export type PlanAction =
  /** New CA and serving certificate (nothing usable stored, or the CA expired). */
  | "issue-all"
  /** New CA put first in the bundle, the old one kept until it expires; the serving certificate follows later. */
  | "rotate-ca"
  /** New serving certificate from the current CA. */
  | "renew-serving"
  | "none";

export interface CertPlan {
  readonly action: PlanAction;
  readonly reason: string;
  /** When the plan should be made again at the latest. */
  readonly nextCheckAt: Date;
}

export function renewalPoint(times: CertificateTimes, fraction: number): Date {
  const lifetime = times.notAfter.getTime() - times.notBefore.getTime();
  return new Date(times.notBefore.getTime() + lifetime * fraction);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item));
}

/**
 * Order matters: the CA first, because a serving certificate from a CA about to be replaced would need
 * renewing again at once; a serving certificate from a new CA only once the apiserver trusts that CA, so
 * the handshake never fails between the Secret write and the caBundle patch.
 */
export function planWebhookTls(input: PlanInput): CertPlan {
  const fraction = input.renewAtFraction ?? 2 / 3;
  const now = input.now;
  const stored = input.stored;
  const soon = (date: Date): Date => (date.getTime() > now.getTime() ? date : now);
  if (stored === undefined) return { action: "issue-all", reason: "no usable webhook certificate is stored", nextCheckAt: now };
  if (now >= stored.ca.notAfter) return { action: "issue-all", reason: "the webhook CA expired", nextCheckAt: now };
  const caRenewal = renewalPoint(stored.ca, fraction);
  if (now >= caRenewal) return { action: "rotate-ca", reason: "the webhook CA passed its renewal point", nextCheckAt: now };

  const serving = stored.serving;
  const servingRenewal = renewalPoint(serving, fraction);
  const next = soon(new Date(Math.min(caRenewal.getTime(), servingRenewal.getTime())));
  if (now >= serving.notAfter) return { action: "renew-serving", reason: "the serving certificate expired", nextCheckAt: now };
  if (!sameSet(serving.dnsNames, input.dnsNames) || !sameSet(serving.ipAddresses, input.ipAddresses)) {
    return { action: "renew-serving", reason: "the serving certificate names other hosts", nextCheckAt: now };
  }
  if (!serving.issuedByCurrentCa) {
    return input.caBundleInstalled
      ? { action: "renew-serving", reason: "the serving certificate is from the previous CA", nextCheckAt: now }
      : { action: "none", reason: "waiting for the new CA to reach the webhook configurations", nextCheckAt: now };
  }
  if (now >= servingRenewal) return { action: "renew-serving", reason: "the serving certificate passed its renewal point", nextCheckAt: now };
  return { action: "none", reason: "certificates are current", nextCheckAt: next };
}
