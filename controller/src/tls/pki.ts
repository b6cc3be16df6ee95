// Webhook PKI: creates the CA and serving certificate, and reads the facts the renewal planner needs.
import { webcrypto } from "node:crypto";
import { x509 } from "./x509.ts";
import type { StoredWebhookTls } from "./cert-plan.ts";
import { TlsError } from "./errors.ts";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING_ALGORITHM = { name: "ECDSA", hash: "SHA-256" } as const;
/** Clock skew between the controller and the apiserver must not make a fresh certificate "not yet valid". */
const BACKDATE_MS = 5 * 60 * 1000;

export interface PemPair {
  readonly certPem: string;
  readonly keyPem: string;
}

async function newKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"]);
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

export async function createWebhookCa(now: Date, lifetimeMs: number, commonName: string): Promise<PemPair> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${commonName}`,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + lifetimeMs),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await privateKeyPem(keys.privateKey) };
}

export interface ServingRequest {
  readonly ca: PemPair;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly now: Date;
  readonly lifetimeMs: number;
}

export async function createServingCertificate(request: ServingRequest): Promise<PemPair> {
  const caCert = new x509.X509Certificate(request.ca.certPem);
  const caKey = await webcrypto.subtle.importKey(
    "pkcs8",
    x509.PemConverter.decodeFirst(request.ca.keyPem),
    KEY_ALGORITHM,
    false,
    ["sign"],
  );
  const keys = await newKeys();
  const names = [
    ...request.dnsNames.map((value) => ({ type: "dns" as const, value })),
    ...request.ipAddresses.map((value) => ({ type: "ip" as const, value })),
  ];
  const notAfter = new Date(Math.min(request.now.getTime() + request.lifetimeMs, caCert.notAfter.getTime()));
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${request.dnsNames[0] ?? request.ipAddresses[0] ?? "tessera-webhook"}`,
    issuer: caCert.subject,
    notBefore: new Date(request.now.getTime() - BACKDATE_MS),
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await privateKeyPem(keys.privateKey) };
}

/** Splits a PEM bundle into its certificates, in order. */
export function splitPemBundle(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** The bundle with `first` in front and every certificate already expired at `now` dropped. */
export function joinBundle(first: string, rest: readonly string[], now: Date): string {
  const kept = rest.filter((pem) => pem.trim() !== first.trim() && new x509.X509Certificate(pem).notAfter > now);
  return `${[first, ...kept].map((pem) => pem.trim()).join("\n")}\n`;
}

/** Reads a stored CA bundle and serving certificate; throws TlsError InvalidCertificate when unreadable. */
export async function readStoredFacts(caBundle: string, servingCertPem: string): Promise<StoredWebhookTls> {
  try {
    const caPem = splitPemBundle(caBundle)[0];
    if (caPem === undefined) throw new Error("the CA bundle holds no certificate");
    const ca = new x509.X509Certificate(caPem);
    const serving = new x509.X509Certificate(servingCertPem);
    const san = serving.getExtension(x509.SubjectAlternativeNameExtension);
    const names = san?.names.toJSON() ?? [];
    const issuedByCurrentCa = serving.issuer === ca.subject && (await serving.verify({ publicKey: ca.publicKey, signatureOnly: true }));
    return {
      ca: { notBefore: ca.notBefore, notAfter: ca.notAfter },
      serving: {
        notBefore: serving.notBefore,
        notAfter: serving.notAfter,
        dnsNames: names.filter((n) => n.type === "dns").map((n) => n.value),
        ipAddresses: names.filter((n) => n.type === "ip").map((n) => n.value),
        issuedByCurrentCa,
      },
    };
  } catch (error) {
    throw new TlsError("InvalidCertificate", "the stored webhook certificate cannot be read", { cause: error });
  }
}
