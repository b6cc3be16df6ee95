// Pure: a verified JWT payload turned into Tessera's typed claims (RFC 9068 claims, the act chain, cnf, Tessera's own).
import {
  CLAIM_CLUSTER,
  CLAIM_CONFIRMATION,
  CLAIM_ENVIRONMENT,
  CLAIM_NAMESPACE,
  CLAIM_POD,
  CLAIM_POLICY,
  CLAIM_SERVICE_ACCOUNT,
  CONFIRMATION_JKT,
} from "../api/constants.ts";
import { VerifyError } from "./errors.ts";

/** One party of an RFC 8693 `act` chain. */
export interface Actor {
  readonly sub: string;
  readonly iss?: string;
}

/** The policy a token was minted under. */
export interface PolicyRef {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly generation: number;
}

/** The pod a token was minted for. */
export interface PodRef {
  readonly name: string;
  readonly uid: string;
  readonly namespace: string;
  readonly node?: string;
}

/** A verified Tessera access token's claims, typed. */
export interface TesseraClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: readonly string[];
  readonly exp: number;
  readonly iat: number;
  readonly nbf?: number;
  readonly jti: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  /**
   * Who acts for the subject, the current actor first (RFC 8693 section 4.1: only the outermost actor may be used
   * for access control; the rest are history). Empty when nobody acts for the subject.
   */
  readonly actors: readonly Actor[];
  /** The RFC 7638 thumbprint of the key the token is bound to (DPoP), or undefined for a bearer token. */
  readonly jkt?: string;
  readonly policy?: PolicyRef;
  readonly pod?: PodRef;
  readonly cluster?: string;
  readonly environment?: string;
  readonly namespace?: string;
  readonly serviceAccount?: string;
  /** Every claim as signed, including the claims a policy computed (tenant, groups, ...). */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** Deepest `act` nesting read; Tessera's guardrails cap chains at 8, a longer one is not Tessera's. */
const MAX_ACT_DEPTH = 16;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function invalid(message: string): VerifyError {
  return new VerifyError("TokenClaimsInvalid", message);
}

function requireString(payload: Record<string, unknown>, name: string): string {
  const value = payload[name];
  if (typeof value !== "string" || value === "") throw invalid(`the token has no ${name} claim`);
  return value;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function actorsOf(act: unknown): Actor[] {
  const actors: Actor[] = [];
  let current = act;
  while (current !== undefined) {
    if (!isObject(current) || typeof current["sub"] !== "string") throw invalid("the act claim is not a chain of objects with sub");
    if (actors.length >= MAX_ACT_DEPTH) throw invalid(`the act chain is deeper than ${MAX_ACT_DEPTH}`);
    const iss = optionalString(current["iss"]);
    actors.push({ sub: current["sub"], ...(iss === undefined ? {} : { iss }) });
    current = current["act"];
  }
  return actors;
}

function jktOf(cnf: unknown): string | undefined {
  if (cnf === undefined) return undefined;
  const jkt = isObject(cnf) ? cnf[CONFIRMATION_JKT] : undefined;
  // A cnf claim the kit cannot honour (another confirmation method) must not be read as "unbound".
  if (typeof jkt !== "string" || !/^[A-Za-z0-9_-]{43}$/.test(jkt)) {
    throw invalid("the token is bound by a cnf claim without a SHA-256 jkt; this verifier honours cnf.jkt only");
  }
  return jkt;
}

function policyOf(value: unknown): PolicyRef | undefined {
  if (!isObject(value)) return undefined;
  const { kind, namespace, name, generation } = value;
  if (typeof kind !== "string" || typeof name !== "string" || typeof generation !== "number") return undefined;
  return { kind, name, generation, ...(typeof namespace === "string" ? { namespace } : {}) };
}

function podOf(value: unknown): PodRef | undefined {
  if (!isObject(value)) return undefined;
  const { name, uid, namespace, node } = value;
  if (typeof name !== "string" || typeof uid !== "string" || typeof namespace !== "string") return undefined;
  return { name, uid, namespace, ...(typeof node === "string" ? { node } : {}) };
}

/** Reads the claims of a payload whose signature, iss, aud and times are already checked. */
export function tesseraClaims(payload: Record<string, unknown>): TesseraClaims {
  const aud = payload["aud"];
  const audiences = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === "string") : [];
  const scope = payload["scope"];
  if (scope !== undefined && typeof scope !== "string") throw invalid("the scope claim is not a string");
  const exp = payload["exp"];
  const iat = payload["iat"];
  const nbf = payload["nbf"];
  if (typeof exp !== "number" || typeof iat !== "number") throw invalid("the token has no numeric exp and iat");
  const jkt = jktOf(payload[CLAIM_CONFIRMATION]);
  const policy = policyOf(payload[CLAIM_POLICY]);
  const pod = podOf(payload[CLAIM_POD]);
  const cluster = optionalString(payload[CLAIM_CLUSTER]);
  const environment = optionalString(payload[CLAIM_ENVIRONMENT]);
  const namespace = optionalString(payload[CLAIM_NAMESPACE]);
  const serviceAccount = optionalString(payload[CLAIM_SERVICE_ACCOUNT]);
  return {
    iss: requireString(payload, "iss"),
    sub: requireString(payload, "sub"),
    aud: audiences,
    exp,
    iat,
    ...(typeof nbf === "number" ? { nbf } : {}),
    jti: requireString(payload, "jti"),
    clientId: requireString(payload, "client_id"),
    scopes: scope === undefined ? [] : scope.split(" ").filter((s) => s !== ""),
    actors: actorsOf(payload["act"]),
    ...(jkt === undefined ? {} : { jkt }),
    ...(policy === undefined ? {} : { policy }),
    ...(pod === undefined ? {} : { pod }),
    ...(cluster === undefined ? {} : { cluster }),
    ...(environment === undefined ? {} : { environment }),
    ...(namespace === undefined ? {} : { namespace }),
    ...(serviceAccount === undefined ? {} : { serviceAccount }),
    raw: payload,
  };
}
