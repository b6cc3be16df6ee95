// The throwaway PKI: what the apiserver and its clients check in each certificate.
import { X509Certificate, createPublicKey } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { generatePki, type ControlPlanePki } from "../../controlplane/pki.ts";

describe("generatePki", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  let pki: ControlPlanePki;

  beforeAll(async () => {
    pki = await generatePki(now, 7);
  });

  it("makes a self-signed CA that may sign certificates", () => {
    const ca = new X509Certificate(pki.ca.certPem);
    expect(ca.ca).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
  });

  it("makes a serving certificate for 127.0.0.1 and localhost, signed by the CA", () => {
    const ca = new X509Certificate(pki.ca.certPem);
    const serving = new X509Certificate(pki.serving.certPem);
    expect(serving.checkIssued(ca)).toBe(true);
    expect(serving.verify(ca.publicKey)).toBe(true);
    expect(serving.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(serving.checkHost("localhost")).toBe("localhost");
    expect(serving.ca).toBe(false);
  });

  it("makes an admin client certificate in the system:masters group", () => {
    const admin = new X509Certificate(pki.admin.certPem);
    expect(admin.subject).toContain("CN=admin");
    expect(admin.subject).toContain("O=system:masters");
    expect(admin.verify(new X509Certificate(pki.ca.certPem).publicKey)).toBe(true);
  });

  it("is valid from just before now for the requested number of days", () => {
    const serving = new X509Certificate(pki.serving.certPem);
    expect(new Date(serving.validFrom).getTime()).toBeLessThanOrEqual(now.getTime());
    expect(new Date(serving.validTo).getTime()).toBe(now.getTime() + 7 * 24 * 3600 * 1000);
  });

  it("makes an RSA service-account key pair whose halves belong together", () => {
    const fromPrivate = createPublicKey(pki.serviceAccount.privateKeyPem).export({ type: "spki", format: "pem" });
    expect(fromPrivate).toBe(pki.serviceAccount.publicKeyPem);
    expect(createPublicKey(pki.serviceAccount.publicKeyPem).asymmetricKeyType).toBe("rsa");
  });
});
