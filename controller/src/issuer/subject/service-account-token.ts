// Pure checks of a projected service-account token's header and claims (RFC 8725), kept apart from key lookup.
import { ACCESS_TOKEN_TYP, K8S_SERVICE_ACCOUNT_SUBJECT_PREFIX, K8S_TOKEN_CLAIM } from "../../../../api/constants.ts";
import { IssuerError } from "../errors.ts";

/** What a verified projected token says about who holds it. */
export interface ServiceAccountIdentity {
  readonly issuer: string;
  /** system:serviceaccount:NS:NAME */
  readonly subject: string;
  readonly namespace: string;
  readonly serviceAccount: { readonly name: string; readonly uid: string };
  readonly pod: { readonly name: string; readonly uid: string };
  readonly node?: { readonly name: string; readonly uid?: string };
  /** Seconds since the epoch. */
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly tokenId?: string;
}

/** What a projected token must satisfy. */
export interface ServiceAccountTokenRules {
  /** Exact `iss` of the cluster's service-account tokens. */
  readonly issuer: string;
  /** `aud` must contain this (Tessera's audience). */
  readonly audience: string;
  /** Tessera's own issuer URL: a token claiming it is a Tessera token and never a subject token. */
  readonly tesseraIssuer: string;
  /** Clock skew tolerated on exp, nbf and iat. */
  readonly leewaySeconds: number;
  /** Oldest `iat` accepted; the kubelet refreshes projected tokens at 80% of their life and at least daily. */
  readonly maxAgeSeconds: number;
}

export const DEFAULT_LEEWAY_SECONDS = 30;
export const DEFAULT_MAX_AGE_SECONDS = 24 * 60 * 60;

function claimsMissing(what: string): IssuerError {
  return new IssuerError(
    "TokenClaimsMissing",
    `the token has no ${what}: send a projected service-account token bound to a pod (serviceAccountToken volume), not a legacy Secret token`,
  );
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function obj(value: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** True when a JOSE `typ` names an access token (RFC 9068), with or without the application/ prefix. */
export function isAccessTokenTyp(typ: unknown): boolean {
  if (typeof typ !== "string") return false;
  const t = typ.toLowerCase();
  return t === ACCESS_TOKEN_TYP || t === `application/${ACCESS_TOKEN_TYP}`;
}

/** Rejects headers that mark a Tessera access token: validation of the two kinds is mutually exclusive (RFC 8725 section 3.11). */
export function checkServiceAccountHeader(header: Readonly<Record<string, unknown>>): void {
  if (isAccessTokenTyp(header["typ"])) {
    throw new IssuerError(
      "TokenKindMismatch",
      "the subject token is an access token (typ at+jwt); send the pod's projected service-account token instead",
    );
  }
}

/** Checks the claims of a signature-verified projected token; `nowSeconds` from the injected clock. */
export function checkServiceAccountClaims(
  payload: Readonly<Record<string, unknown>>,
  rules: ServiceAccountTokenRules,
  nowSeconds: number,
): ServiceAccountIdentity {
  const iss = payload["iss"];
  if (iss === rules.tesseraIssuer) {
    throw new IssuerError(
      "TokenKindMismatch",
      "the subject token was issued by Tessera; send the pod's projected service-account token instead",
    );
  }
  if (iss !== rules.issuer) {
    throw new IssuerError(
      "TokenIssuerMismatch",
      `the token's issuer ${JSON.stringify(iss)} is not this cluster's service-account issuer ${rules.issuer}`,
    );
  }
  const aud = payload["aud"];
  const audiences = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud.filter((a) => typeof a === "string") : [];
  if (!audiences.includes(rules.audience)) {
    throw new IssuerError(
      "TokenAudienceMismatch",
      `the token's audience does not include ${rules.audience}; project the token with audience: ${rules.audience}`,
    );
  }
  const leeway = rules.leewaySeconds;
  const exp = num(payload["exp"]);
  if (exp === undefined) throw claimsMissing("exp claim");
  if (nowSeconds >= exp + leeway) {
    throw new IssuerError("TokenExpired", "the token has expired; read the projected token file again, the kubelet refreshes it");
  }
  const nbf = payload["nbf"];
  if (nbf !== undefined) {
    const n = num(nbf);
    if (n === undefined) throw new IssuerError("TokenMalformed", "the token's nbf is not a number");
    if (n > nowSeconds + leeway) throw new IssuerError("TokenNotYetValid", "the token is not valid yet (nbf is in the future); check the node's clock");
  }
  const iat = num(payload["iat"]);
  if (iat === undefined) throw claimsMissing("iat claim");
  if (iat > nowSeconds + leeway) throw new IssuerError("TokenNotYetValid", "the token was issued in the future (iat); check the node's clock");
  if (nowSeconds - iat > rules.maxAgeSeconds + leeway) {
    throw new IssuerError(
      "TokenTooOld",
      `the token was issued more than ${rules.maxAgeSeconds} s ago; read the projected token file again, the kubelet refreshes it`,
    );
  }

  const k8s = obj(payload[K8S_TOKEN_CLAIM]);
  if (k8s === undefined) throw claimsMissing(`${K8S_TOKEN_CLAIM} claim`);
  const namespace = str(k8s["namespace"]);
  if (namespace === undefined) throw claimsMissing(`${K8S_TOKEN_CLAIM}.namespace claim`);
  const pod = obj(k8s["pod"]);
  const podName = str(pod?.["name"]);
  const podUid = str(pod?.["uid"]);
  if (podName === undefined || podUid === undefined) throw claimsMissing("pod binding (kubernetes.io.pod.name and uid)");
  const sa = obj(k8s["serviceaccount"]);
  const saName = str(sa?.["name"]);
  const saUid = str(sa?.["uid"]);
  if (saName === undefined || saUid === undefined) {
    throw claimsMissing("service account (kubernetes.io.serviceaccount.name and uid)");
  }
  const subject = `${K8S_SERVICE_ACCOUNT_SUBJECT_PREFIX}${namespace}:${saName}`;
  if (payload["sub"] !== subject) {
    throw new IssuerError("TokenMalformed", `the token's sub does not match its kubernetes.io claims (${subject})`);
  }
  const node = obj(k8s["node"]);
  const nodeName = str(node?.["name"]);
  const nodeUid = str(node?.["uid"]);
  const jti = str(payload["jti"]);
  return {
    issuer: rules.issuer,
    subject,
    namespace,
    serviceAccount: { name: saName, uid: saUid },
    pod: { name: podName, uid: podUid },
    ...(nodeName === undefined ? {} : { node: { name: nodeName, ...(nodeUid === undefined ? {} : { uid: nodeUid }) } }),
    issuedAt: iat,
    expiresAt: exp,
    ...(jti === undefined ? {} : { tokenId: jti }),
  };
}
