// Throwaway PKI for one control plane: a CA, the apiserver's serving cert, an admin client cert and the SA signing key.
import { createPrivateKey, KeyObject, randomBytes, webcrypto } from "node:crypto";
import { x509 } from "../../controller/src/tls/x509.ts";

export interface KeyPairPem {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface ControlPlanePki {
  readonly ca: KeyPairPem;
  /** Serving certificate of the apiserver: IP SAN 127.0.0.1 (and any extra addresses asked for) and DNS localhost. */
  readonly serving: KeyPairPem;
  /** Client certificate CN=admin, O=system:masters: full access through RBAC's superuser group. */
  readonly admin: KeyPairPem;
  /** RSA key the apiserver signs service-account tokens with (RS256, as most clusters do). */
  readonly serviceAccount: { readonly publicKeyPem: string; readonly privateKeyPem: string };
}

const EC_KEY: webcrypto.EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const EC_SIGN: webcrypto.EcdsaParams = { name: "ECDSA", hash: "SHA-256" };
const DAY_MS = 24 * 60 * 60 * 1000;

function serial(): string {
  // Positive 128-bit serial: clear the top bit so DER does not read it as negative.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString("hex");
}

function privateKeyPem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: "pkcs8", format: "pem" }).toString();
}

function publicKeyPem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: "spki", format: "pem" }).toString();
}

async function ecKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"]);
}

interface LeafParams {
  readonly subject: string;
  readonly usage: x509.ExtendedKeyUsage;
  readonly altNames?: readonly x509.JsonGeneralName[];
}

async function leaf(
  ca: { cert: x509.X509Certificate; key: webcrypto.CryptoKey },
  params: LeafParams,
  notBefore: Date,
  notAfter: Date,
): Promise<KeyPairPem> {
  const keys = await ecKeyPair();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([params.usage]),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
  ];
  if (params.altNames !== undefined) {
    extensions.push(new x509.SubjectAlternativeNameExtension([...params.altNames]));
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: params.subject,
    issuer: ca.cert.subject,
    notBefore,
    notAfter,
    signingAlgorithm: EC_SIGN,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions,
  });
  return { certPem: cert.toString("pem"), keyPem: privateKeyPem(keys.privateKey) };
}

/** What a certificate issued by issueCertificate() is for, and the names it carries. */
export interface CertificateRequest {
  /** Distinguished name, e.g. "CN=system:node:n1, O=system:nodes". */
  readonly subject: string;
  readonly usage: "client" | "server";
  readonly ipAddresses?: readonly string[];
  readonly dnsNames?: readonly string[];
}

function altNames(ipAddresses: readonly string[], dnsNames: readonly string[]): x509.JsonGeneralName[] {
  return [
    ...ipAddresses.map((value) => ({ type: "ip" as const, value })),
    ...dnsNames.map((value) => ({ type: "dns" as const, value })),
  ];
}

/**
 * Issues one more certificate from an existing CA (the node tier's kubelet, controller-manager and scheduler
 * identities), valid from a minute before `now` for `days` days.
 */
export async function issueCertificate(
  ca: KeyPairPem,
  request: CertificateRequest,
  now: Date,
  days = 7,
): Promise<KeyPairPem> {
  const caKey = await webcrypto.subtle.importKey(
    "pkcs8",
    createPrivateKey(ca.keyPem).export({ type: "pkcs8", format: "der" }),
    EC_KEY,
    false,
    ["sign"],
  );
  const names = altNames(request.ipAddresses ?? [], request.dnsNames ?? []);
  return leaf(
    { cert: new x509.X509Certificate(ca.certPem), key: caKey },
    {
      subject: request.subject,
      usage: request.usage === "client" ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth,
      ...(names.length > 0 ? { altNames: names } : {}),
    },
    new Date(now.getTime() - 60_000),
    new Date(now.getTime() + days * DAY_MS),
  );
}

/**
 * Generates a fresh PKI valid from a minute before `now` for `days` days. `servingIps` are further addresses of the
 * apiserver's serving certificate: the node tier's bridge address and the `kubernetes` Service's ClusterIP, which
 * pods dial.
 */
export async function generatePki(now: Date, days = 7, servingIps: readonly string[] = []): Promise<ControlPlanePki> {
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + days * DAY_MS);
  const caKeys = await ecKeyPair();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: "CN=tessera-test-ca",
    notBefore,
    notAfter,
    signingAlgorithm: EC_SIGN,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const ca = { cert: caCert, key: caKeys.privateKey };
  const serving = await leaf(
    ca,
    {
      subject: "CN=kube-apiserver",
      usage: x509.ExtendedKeyUsage.serverAuth,
      altNames: altNames(
        ["127.0.0.1", ...servingIps],
        ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"],
      ),
    },
    notBefore,
    notAfter,
  );
  const admin = await leaf(
    ca,
    { subject: "CN=admin, O=system:masters", usage: x509.ExtendedKeyUsage.clientAuth },
    notBefore,
    notAfter,
  );
  const saKeys = await webcrypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  );
  return {
    ca: { certPem: caCert.toString("pem"), keyPem: privateKeyPem(caKeys.privateKey) },
    serving,
    admin,
    serviceAccount: { publicKeyPem: publicKeyPem(saKeys.publicKey), privateKeyPem: privateKeyPem(saKeys.privateKey) },
  };
}
