// Who the actor is, proven by a credential only it holds: its own projected token (verified and bound to its pod like
// a subject token), or a DPoP-bound Tessera token presented with a proof of its key. A bearer Tessera token is refused:
// whoever holds a copy could pose as the actor.
import { CLAIM_CONFIRMATION, CLAIM_MAY_ACT, CLAIM_NAMESPACE, CLAIM_SERVICE_ACCOUNT, CONFIRMATION_JKT } from "../../../../api/constants.ts";
import type { Actor } from "../../policy/types.ts";
import type { TokenLiveness } from "../audit/token-liveness.ts";
import { tokenBinding } from "../audit/introspection-rules.ts";
import { IssuerError, isIssuerError } from "../errors.ts";
import { verifyAccessToken, type TesseraKeyLookup } from "../keys/access-token.ts";
import { decodeCompactJws } from "../keys/jws.ts";
import { checkPodBinding, type PodLookup } from "../subject/pod-lookup.ts";
import { DEFAULT_LEEWAY_SECONDS, isAccessTokenTyp } from "../subject/service-account-token.ts";
import type { SubjectVerifier } from "../subject/subject-verifier.ts";
import { actorFromServiceAccount } from "../subject/subject.ts";

export interface ActorCredentialDeps {
  readonly verifier: SubjectVerifier;
  readonly pods: PodLookup;
  readonly keys: TesseraKeyLookup;
  readonly liveness: TokenLiveness;
  /** Tessera's issuer URL: iss of a Tessera actor token, and the audience it must carry. */
  readonly issuer: string;
  readonly now: () => Date;
}

/** A proven actor and the pod it runs in (whose exchange rate it spends). */
export interface ProvenActor {
  readonly actor: Actor;
  readonly podUid: string;
}

function actorInvalid(message: string): IssuerError {
  return new IssuerError("ActorInvalid", `actor_token: ${message}`);
}

/** Verifies `token` as the actor's own credential; `proofJkt` is the thumbprint of the request's DPoP proof, if any. */
export async function proveActor(deps: ActorCredentialDeps, token: string, proofJkt: string | undefined): Promise<ProvenActor> {
  try {
    if (isAccessTokenTyp(decodeCompactJws(token).header["typ"])) return await proveByTesseraToken(deps, token, proofJkt);
    const identity = await deps.verifier.verify(token);
    const pod = checkPodBinding(identity, await deps.pods.get(identity.namespace, identity.pod.name));
    return { actor: actorFromServiceAccount(identity), podUid: pod.uid };
  } catch (error) {
    if (isIssuerError(error) && error.oauthError === "invalid_grant" && error.code !== "ActorInvalid") {
      throw actorInvalid(error.message);
    }
    throw error;
  }
}

async function proveByTesseraToken(deps: ActorCredentialDeps, token: string, proofJkt: string | undefined): Promise<ProvenActor> {
  const verified = verifyAccessToken(
    token,
    deps.keys,
    { issuer: deps.issuer, audience: deps.issuer, leewaySeconds: DEFAULT_LEEWAY_SECONDS },
    Math.floor(deps.now().getTime() / 1000),
  );
  const claims = verified.claims;
  const jkt = (claims[CLAIM_CONFIRMATION] as Record<string, unknown> | undefined)?.[CONFIRMATION_JKT];
  if (typeof jkt !== "string") {
    throw actorInvalid("a Tessera token is accepted as an actor's credential only when DPoP-bound; send the actor's projected token instead");
  }
  if (proofJkt !== jkt) {
    throw actorInvalid("the request's DPoP proof is not signed with the key the actor's token is bound to");
  }
  // The actor speaks for itself alone: a chain comes only from a grant, never from what an actor brings.
  if (claims["act"] !== undefined || claims[CLAIM_MAY_ACT] !== undefined) {
    throw actorInvalid("an actor's token must be its own (no act, no may_act); a chain is carried by the delegation grant");
  }
  const reason = await deps.liveness.inactiveReason(claims);
  if (reason !== undefined) throw actorInvalid(`the actor's token is no longer valid (${reason})`);
  const namespace = claims[CLAIM_NAMESPACE];
  const name = claims[CLAIM_SERVICE_ACCOUNT];
  const binding = tokenBinding(claims);
  if (typeof namespace !== "string" || typeof name !== "string" || binding === undefined) {
    throw actorInvalid("the actor's token lacks its service account or pod");
  }
  return { actor: { sub: verified.sub, iss: deps.issuer, serviceAccount: { namespace, name } }, podUid: binding.pod.uid };
}
