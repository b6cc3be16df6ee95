// Mints an RFC 9068 at+jwt access token for an allowed decision, signed directly with node:crypto.
import {
  ACCESS_TOKEN_TYP,
  CLAIM_CLUSTER,
  CLAIM_CONFIRMATION,
  CLAIM_ENVIRONMENT,
  CONFIRMATION_JKT,
  CLAIM_NAMESPACE,
  CLAIM_POD,
  CLAIM_POLICY,
  CLAIM_SERVICE_ACCOUNT,
  ISSUER_OWNED_CLAIMS,
  K8S_SERVICE_ACCOUNT_SUBJECT_PREFIX,
  TESSERA_CLAIM_PREFIX,
} from "../../../../api/constants.ts";
import type { AllowedDecision } from "../../policy/types.ts";
import { actClaimFor } from "../keys/access-token.ts";
import { signJws, type SigningKey } from "../keys/keys.ts";

export interface MintInput {
  readonly decision: AllowedDecision;
  readonly key: SigningKey;
  /** Tessera's issuer URL (`iss`). */
  readonly issuer: string;
  readonly now: Date;
  /** Thumbprint of the DPoP key the token is bound to (cnf.jkt); absent for a bearer token. */
  readonly jkt?: string;
  /** Claims only the issuer sets beyond the usual ones (a delegation grant's may_act); never from a policy. */
  readonly extraClaims?: Readonly<Record<string, unknown>>;
}

export interface MintedToken {
  readonly token: string;
  readonly claims: Readonly<Record<string, unknown>>;
  /** Seconds from `now` to `exp`. */
  readonly expiresIn: number;
}

const OWNED: ReadonlySet<string> = new Set(ISSUER_OWNED_CLAIMS);

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

/** The protected header is the same for every token a key signs: encoded once per key, not once per token. */
const encodedHeaders = new WeakMap<SigningKey, string>();

function encodedHeaderOf(key: SigningKey): string {
  let header = encodedHeaders.get(key);
  if (header === undefined) {
    header = b64({ alg: key.alg, typ: ACCESS_TOKEN_TYP, kid: key.kid });
    encodedHeaders.set(key, header);
  }
  return header;
}

/** The claim set of an allowed decision; pure, for tests and explain. */
export function accessTokenClaims(
  decision: AllowedDecision,
  issuer: string,
  now: Date,
  jkt?: string,
  extraClaims?: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const { subject, grant, policy } = decision;
  const iat = Math.floor(now.getTime() / 1000);
  const sub = `${K8S_SERVICE_ACCOUNT_SUBJECT_PREFIX}${subject.serviceAccount.namespace}:${subject.serviceAccount.name}`;
  const claims: Record<string, unknown> = {};
  // Policy claims first; the engine already refuses issuer-owned and Tessera names, this is a second fence.
  for (const [name, value] of Object.entries(grant.claims)) {
    if (!OWNED.has(name) && !name.startsWith(TESSERA_CLAIM_PREFIX)) claims[name] = value;
  }
  const act = actClaimFor(subject.actors);
  Object.assign(claims, {
    ...extraClaims,
    iss: issuer,
    sub,
    aud: grant.audiences.length === 1 ? grant.audiences[0] : [...grant.audiences],
    exp: iat + grant.ttlSeconds,
    nbf: iat,
    iat,
    jti: decision.id,
    client_id: sub,
    ...(grant.scopes.length === 0 ? {} : { scope: grant.scopes.join(" ") }),
    ...(act === undefined ? {} : { act }),
    ...(jkt === undefined ? {} : { [CLAIM_CONFIRMATION]: { [CONFIRMATION_JKT]: jkt } }),
    [CLAIM_POLICY]: {
      kind: policy.kind,
      ...(policy.namespace === undefined ? {} : { namespace: policy.namespace }),
      name: policy.name,
      generation: policy.generation,
    },
    [CLAIM_POD]: {
      name: subject.pod.name,
      uid: subject.pod.uid,
      namespace: subject.namespace.name,
      ...(subject.pod.nodeName === undefined ? {} : { node: subject.pod.nodeName }),
    },
    [CLAIM_CLUSTER]: subject.cluster.name,
    [CLAIM_ENVIRONMENT]: subject.cluster.environment,
    [CLAIM_NAMESPACE]: subject.serviceAccount.namespace,
    [CLAIM_SERVICE_ACCOUNT]: subject.serviceAccount.name,
  });
  return claims;
}

/** Signs the claims of `decision` with the current key. */
export function mintAccessToken(input: MintInput): MintedToken {
  const claims = accessTokenClaims(input.decision, input.issuer, input.now, input.jkt, input.extraClaims);
  const signingInput = `${encodedHeaderOf(input.key)}.${b64(claims)}`;
  const signature = signJws(input.key, Buffer.from(signingInput, "ascii")).toString("base64url");
  return { token: `${signingInput}.${signature}`, claims, expiresIn: input.decision.grant.ttlSeconds };
}
