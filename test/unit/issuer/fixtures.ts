// Test fixtures for the issuer: a stand-in cluster signing key, projected-token builder, fixed clock, silent logger.
import { createHmac, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { pino } from "pino";
import {
  DEFAULT_TESSERA_AUDIENCE,
  K8S_TOKEN_CLAIM,
} from "../../../api/constants.ts";
import type { ServiceAccountTokenRules } from "../../../controller/src/issuer/subject/service-account-token.ts";
import type { Subject } from "../../../controller/src/policy/types.ts";

export const CLUSTER_ISSUER = "https://kubernetes.default.svc";
export const TESSERA_ISSUER = "https://tessera.tessera-system.svc";
export const NOW = new Date("2026-03-01T12:00:00Z");
export const NOW_S = Math.floor(NOW.getTime() / 1000);

export const RULES: ServiceAccountTokenRules = {
  issuer: CLUSTER_ISSUER,
  audience: DEFAULT_TESSERA_AUDIENCE,
  tesseraIssuer: TESSERA_ISSUER,
  leewaySeconds: 30,
  maxAgeSeconds: 86_400,
};

export const silentLogger = pino({ level: "silent" });

export interface ClusterKey {
  readonly kid: string;
  readonly alg: "RS256" | "ES256";
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function rsaClusterKey(kid = "rsa-1"): ClusterKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { kid, alg: "RS256", privateKey, publicKey };
}

export function ecClusterKey(kid = "ec-1"): ClusterKey {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { kid, alg: "ES256", privateKey, publicKey };
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Claims of a projected token bound to pod `api-0` of service account `api` in namespace `shop`. */
export function projectedClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: CLUSTER_ISSUER,
    sub: "system:serviceaccount:shop:api",
    aud: [DEFAULT_TESSERA_AUDIENCE],
    iat: NOW_S - 60,
    nbf: NOW_S - 60,
    exp: NOW_S + 3540,
    jti: "6a1f0c1e-0000-4000-8000-000000000001",
    [K8S_TOKEN_CLAIM]: {
      namespace: "shop",
      pod: { name: "api-0", uid: "pod-uid-1" },
      serviceaccount: { name: "api", uid: "sa-uid-1" },
      node: { name: "node-a", uid: "node-uid-a" },
    },
    ...overrides,
  };
}

/** Signs `claims` as the cluster would (or as an attacker would, with header overrides). */
export function signToken(
  key: ClusterKey,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): string {
  const input = `${b64({ alg: key.alg, kid: key.kid, ...header })}.${b64(claims)}`;
  const signature =
    key.alg === "RS256"
      ? sign("sha256", Buffer.from(input), key.privateKey)
      : sign("sha256", Buffer.from(input), { key: key.privateKey, dsaEncoding: "ieee-p1363" });
  return `${input}.${signature.toString("base64url")}`;
}

/** An unsigned token (alg none). */
export function unsignedToken(claims: Record<string, unknown>, kid: string): string {
  return `${b64({ alg: "none", kid })}.${b64(claims)}.`;
}

/** The classic key-confusion forgery: HS256 with the public key's PEM as the HMAC secret. */
export function hs256WithPublicKey(key: ClusterKey, claims: Record<string, unknown>): string {
  const input = `${b64({ alg: "HS256", kid: key.kid })}.${b64(claims)}`;
  const secret = key.publicKey.export({ type: "spki", format: "pem" });
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

/** An in-memory key set standing in for the cluster's JWKS. */
export function keySetOf(...keys: ClusterKey[]): { get(kid: string): Promise<KeyObject | undefined>; ready: boolean } {
  const map = new Map(keys.map((k) => [k.kid, k.publicKey]));
  return { get: (kid) => Promise.resolve(map.get(kid)), ready: true };
}

/** The subject vector of pod shop/api-0. */
export const SUBJECT: Subject = {
  serviceAccount: { namespace: "shop", name: "api", uid: "sa-uid-1" },
  namespace: { name: "shop", labels: { team: "payments" } },
  pod: { name: "api-0", uid: "pod-uid-1", labels: { app: "api" }, annotations: {}, nodeName: "node-a" },
  cluster: { name: "eu-1", environment: "prod" },
  actors: [],
};
