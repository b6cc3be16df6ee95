// Delegation grants (RFC 8693 section 4.4 may_act): reading one from a verified Tessera token, the claims that make a
// token one, and the pure checks of a grant's use. Pure: the exchange verifies and gathers, this decides.
import {
  CLAIM_DELEGATION,
  CLAIM_MAY_ACT,
  CLAIM_NAMESPACE,
  CLAIM_SERVICE_ACCOUNT,
  K8S_SERVICE_ACCOUNT_SUBJECT_PREFIX,
} from "../../../../api/constants.ts";
import type { Actor } from "../../policy/types.ts";
import { tokenBinding } from "../audit/introspection-rules.ts";
import { IssuerError } from "../errors.ts";
import { actorsFromActClaim } from "../keys/access-token.ts";
import type { MayAct } from "./request.ts";

/** A verified delegation grant: who delegated what to whom, and the chain of actors it already carries. */
export interface DelegationGrant {
  readonly jti: string;
  /** The delegating workload: its service account and the pod the grant is bound to. */
  readonly serviceAccount: { readonly namespace: string; readonly name: string };
  readonly pod: { readonly namespace: string; readonly name: string; readonly uid: string };
  /** The only actor that may use the grant. */
  readonly mayAct: MayAct;
  /** What may be asked for with it: at most these audiences and scopes. */
  readonly audiences: readonly string[];
  readonly scopes: readonly string[];
  /** Actors that already act for the subject (a re-delegated grant), current first; empty for a first-hand grant. */
  readonly chain: readonly Actor[];
}

function grantInvalid(message: string): IssuerError {
  return new IssuerError("GrantInvalid", `subject_token: ${message}`);
}

function record(value: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v): v is string => typeof v === "string") ? value : undefined;
}

/** Whether the verified claims are those of a grant (they carry may_act). */
export function isGrant(claims: Readonly<Record<string, unknown>>): boolean {
  return claims[CLAIM_MAY_ACT] !== undefined;
}

/** Reads a grant from a verified Tessera token's claims; throws GrantInvalid when they are not a well-formed grant. */
export function readGrant(claims: Readonly<Record<string, unknown>>): DelegationGrant {
  if (!isGrant(claims)) {
    throw grantInvalid("a Tessera access token is not a subject token; only a delegation grant (with may_act) is");
  }
  const binding = tokenBinding(claims);
  const jti = claims["jti"];
  const namespace = claims[CLAIM_NAMESPACE];
  const name = claims[CLAIM_SERVICE_ACCOUNT];
  const mayAct = record(claims[CLAIM_MAY_ACT]);
  const actorNamespace = mayAct?.[CLAIM_NAMESPACE];
  const actorName = mayAct?.[CLAIM_SERVICE_ACCOUNT];
  const mayActSub = mayAct?.["sub"];
  const audiences = strings(record(claims[CLAIM_DELEGATION])?.["audiences"]);
  const scope = claims["scope"];
  if (
    binding === undefined ||
    typeof jti !== "string" ||
    typeof namespace !== "string" ||
    typeof name !== "string" ||
    typeof actorNamespace !== "string" ||
    typeof actorName !== "string" ||
    mayActSub !== `${K8S_SERVICE_ACCOUNT_SUBJECT_PREFIX}${actorNamespace}:${actorName}` ||
    audiences === undefined ||
    audiences.length === 0 ||
    (scope !== undefined && typeof scope !== "string")
  ) {
    throw grantInvalid("the delegation grant is malformed");
  }
  let chain: Actor[];
  try {
    chain = actorsFromActClaim(claims["act"]);
  } catch {
    throw grantInvalid("the delegation grant's act chain is malformed");
  }
  return {
    jti,
    serviceAccount: { namespace, name },
    pod: binding.pod,
    mayAct: { sub: mayActSub, serviceAccount: { namespace: actorNamespace, name: actorName } },
    audiences,
    scopes: typeof scope === "string" ? scope.split(" ").filter((s) => s !== "") : [],
    chain,
  };
}

/** The claims that make a minted token a grant for `mayAct` to ask for `audiences`. */
export function grantClaims(mayAct: MayAct, serviceAccountIssuer: string, audiences: readonly string[]): Record<string, unknown> {
  return {
    [CLAIM_MAY_ACT]: {
      sub: mayAct.sub,
      iss: serviceAccountIssuer,
      [CLAIM_NAMESPACE]: mayAct.serviceAccount.namespace,
      [CLAIM_SERVICE_ACCOUNT]: mayAct.serviceAccount.name,
    },
    [CLAIM_DELEGATION]: { audiences: [...audiences] },
  };
}

/** The actor a grant names, as the engine sees an actor, before it has proven itself (for deciding a grant). */
export function namedActor(mayAct: MayAct, serviceAccountIssuer: string): Actor {
  return { sub: mayAct.sub, iss: serviceAccountIssuer, serviceAccount: mayAct.serviceAccount };
}

/**
 * Pure: whether the proven `actor` may use `grant` for `request`, and the scopes to ask the engine for. Scopes only
 * shrink along a chain: what is asked must be within the grant (none asked means all the grant carries).
 */
export function checkGrantUse(
  grant: DelegationGrant,
  actor: Actor,
  request: { readonly audiences: readonly string[]; readonly scopes: readonly string[] },
): { readonly scopes: readonly string[] } {
  if (actor.sub !== grant.mayAct.sub) {
    throw new IssuerError(
      "ActorNotPermitted",
      `the delegation grant may be used only by ${grant.mayAct.sub}; the actor_token proves ${actor.sub}`,
    );
  }
  const outside = request.audiences.filter((a) => !grant.audiences.includes(a));
  if (outside.length > 0) {
    throw new IssuerError("InvalidTarget", `the delegation grant does not delegate ${outside.join(", ")}; it covers ${grant.audiences.join(", ")}`);
  }
  const extra = request.scopes.filter((s) => !grant.scopes.includes(s));
  if (extra.length > 0) {
    throw new IssuerError(
      "InvalidScope",
      `the delegation grant does not carry scope ${extra.map((s) => `'${s}'`).join(", ")}; it carries ${grant.scopes.join(" ") || "no scope"}`,
    );
  }
  const scopes = request.scopes.length > 0 ? request.scopes : grant.scopes;
  if (scopes.length === 0) throw new IssuerError("InvalidScope", "the delegation grant carries no scope; nothing can be asked with it");
  return { scopes };
}
