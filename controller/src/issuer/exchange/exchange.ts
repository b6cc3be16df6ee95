// The token-exchange pipeline: parse, verify, bind to the pod, build the subject, decide, mint, record, respond.
import type { Logger } from "pino";
import type { OAuthErrorCode, OAuthErrorResponse, TokenExchangeResponse } from "../../../../api/exchange.ts";
import type { AllowedDecision, DeniedDecision, DenialReason, Subject } from "../../policy/types.ts";
import { verifyAccessToken, type TesseraKeyLookup } from "../keys/access-token.ts";
import type { TokenLiveness } from "../audit/token-liveness.ts";
import { proveActor } from "./actor-credential.ts";
import { checkGrantUse, grantClaims, namedActor, readGrant, type DelegationGrant } from "./delegation-grant.ts";
import type { Decider } from "./decider.ts";
import type { DecisionRecorder } from "../record/decision-recorder.ts";
import { IssuerError, httpStatusOf, isIssuerError } from "../errors.ts";
import { decodeCompactJws } from "../keys/jws.ts";
import type { SigningKey } from "../keys/keys.ts";
import { mintAccessToken } from "./mint.ts";
import { checkPodBinding, type NamespaceLookup, type PodLookup } from "../subject/pod-lookup.ts";
import type { PodRateLimiter } from "./pod-rate-limit.ts";
import { parseExchangeRequest, type ExchangeRequest, type MayAct } from "./request.ts";
import { DEFAULT_LEEWAY_SECONDS, isAccessTokenTyp, type ServiceAccountIdentity } from "../subject/service-account-token.ts";
import { subjectFromGrant, subjectFromToken, type ClusterInfo } from "../subject/subject.ts";
import type { SubjectVerifier } from "../subject/subject-verifier.ts";
import { DELEGATION_GRANT_MAX_TTL_SECONDS, TOKEN_TYPE_BEARER } from "../../../../api/constants.ts";
import { tokenRequestProofs } from "./dpop-proof.ts";
import { bindingFor } from "./token-binding.ts";

export interface ExchangeDeps {
  readonly verifier: SubjectVerifier;
  readonly pods: PodLookup;
  readonly namespaces: NamespaceLookup;
  readonly decider: Decider;
  readonly keys: TesseraKeyLookup & { current(): SigningKey };
  readonly recorder: DecisionRecorder;
  readonly cluster: ClusterInfo;
  /** Tessera's issuer URL; also the audience a delegation grant and an actor's Tessera token must carry. */
  readonly issuer: string;
  /** The cluster's service-account issuer: iss of an actor proven by its projected token. */
  readonly serviceAccountIssuer: string;
  /** The live checks introspection applies (revoked jti, pod gone, revokeBefore), for every Tessera token presented. */
  readonly liveness: TokenLiveness;
  readonly now: () => Date;
  readonly newId: () => string;
  readonly logger: Logger;
  /** Exchanges per verified pod; none means unlimited (tests that exercise other parts). */
  readonly rateLimiter?: PodRateLimiter;
}

/** What the HTTP layer writes: a status and a JSON body (always with Cache-Control: no-store). */
export type ExchangeOutcome =
  | { readonly status: 200; readonly body: TokenExchangeResponse }
  | { readonly status: number; readonly body: OAuthErrorResponse; readonly retryAfterSeconds?: number };

/** How each policy denial is reported: a target or scope problem the client can fix, otherwise a refusal. */
export const DENIAL_OAUTH_ERROR: Readonly<Record<DenialReason, OAuthErrorCode>> = {
  AudienceNotAllowed: "invalid_target",
  ScopeNotAllowed: "invalid_scope",
  NoMatchingPolicy: "access_denied",
  ConditionFailed: "access_denied",
  PolicyConflict: "access_denied",
  PolicyNotAccepted: "access_denied",
  DelegationNotAllowed: "access_denied",
  DelegationChainTooLong: "access_denied",
  GuardrailViolation: "access_denied",
  ClaimEvaluationFailed: "access_denied",
  AudienceUnowned: "invalid_target",
  AudienceOwnerDenied: "access_denied",
  CostLimitExceeded: "access_denied",
};

function errorOutcome(code: OAuthErrorCode, description: string): ExchangeOutcome {
  return { status: httpStatusOf(code), body: { error: code, error_description: description } };
}

function denialOutcome(decision: DeniedDecision): ExchangeOutcome {
  const code = DENIAL_OAUTH_ERROR[decision.reason];
  return {
    status: httpStatusOf(code),
    body: {
      error: code,
      error_description: decision.message,
      tessera_reason: decision.reason,
      tessera_decision_id: decision.id,
    },
  };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((x) => set.has(x));
}

/** The DPoP header(s) of the request, as Node gives them; undefined when none was sent. */
export type DpopHeader = string | readonly string[] | undefined;

/** Creates the exchange handler. It never throws: every failure becomes an OAuth error outcome. */
export function createTokenExchange(deps: ExchangeDeps): (body: string, dpop?: DpopHeader) => Promise<ExchangeOutcome> {
  const proofs = tokenRequestProofs(deps.issuer);
  const nowSeconds = () => Math.floor(deps.now().getTime() / 1000);

  async function bindToPod(identity: ServiceAccountIdentity) {
    return checkPodBinding(identity, await deps.pods.get(identity.namespace, identity.pod.name));
  }

  async function namespaceOf(name: string) {
    const namespace = await deps.namespaces.get(name);
    if (namespace === undefined) throw new IssuerError("NamespaceNotFound", `namespace ${name} does not exist`);
    return namespace;
  }

  /** Only a verified, bound pod spends a share: a caller cannot spend another pod's or grow the map at will. */
  function takeRate(podUid: string, what: string): void {
    const rate = deps.rateLimiter?.take(podUid, deps.now().getTime());
    if (rate !== undefined && !rate.allowed) {
      throw new IssuerError("RateLimited", `${what} exchanges too often; retry in ${rate.retryAfterSeconds} s`, {
        retryAfterSeconds: rate.retryAfterSeconds,
      });
    }
  }

  /** A Tessera token as subject_token: only a live delegation grant. */
  async function verifyGrant(token: string): Promise<DelegationGrant> {
    let claims: Readonly<Record<string, unknown>>;
    try {
      claims = verifyAccessToken(token, deps.keys, { issuer: deps.issuer, audience: deps.issuer, leewaySeconds: DEFAULT_LEEWAY_SECONDS }, nowSeconds()).claims;
    } catch (error) {
      if (isIssuerError(error)) {
        throw new IssuerError("GrantInvalid", `subject_token: a Tessera access token is a subject token only as a delegation grant; ${error.message}`, {
          cause: error,
        });
      }
      throw error;
    }
    const grant = readGrant(claims);
    // The checks introspection applies, through the same code: a revoked grant, or one whose pod or policy moved on, is dead.
    const reason = await deps.liveness.inactiveReason(claims);
    if (reason !== undefined) throw new IssuerError("GrantInvalid", `subject_token: the delegation grant is no longer valid (${reason})`);
    return grant;
  }

  async function run(body: string, dpop: DpopHeader): Promise<ExchangeOutcome> {
    const request = parseExchangeRequest(body);
    // Checked before the subject token (a bad proof is refused cheaply) but recorded only after the pod is verified and
    // within its rate, so only a real pod's own exchanges can occupy the replay cache.
    const proof = proofs.check(dpop, nowSeconds());

    let subject: Subject;
    let scopes = request.scopes;
    if (isAccessTokenTyp(decodeCompactJws(request.subjectToken).header["typ"])) {
      // A delegation grant: usable only by the actor it names, proven by the actor's own credential, never alone.
      const grant = await verifyGrant(request.subjectToken);
      if (request.actorToken === undefined) {
        throw new IssuerError("ActorRequired", `a delegation grant is accepted only with actor_token: the credential of ${grant.mayAct.sub} itself`);
      }
      const proven = await proveActor(deps, request.actorToken, proof?.jkt);
      ({ scopes } = checkGrantUse(grant, proven.actor, request));
      takeRate(proven.podUid, `actor ${proven.actor.sub}`);
      if (proof !== undefined) proofs.consume(proof, nowSeconds());
      const pod = await deps.pods.get(grant.pod.namespace, grant.pod.name);
      if (pod === undefined || pod.uid !== grant.pod.uid || pod.serviceAccountName !== grant.serviceAccount.name) {
        throw new IssuerError("GrantInvalid", "subject_token: the delegating pod is gone");
      }
      subject = subjectFromGrant({
        serviceAccount: grant.serviceAccount,
        pod,
        namespace: await namespaceOf(grant.serviceAccount.namespace),
        cluster: deps.cluster,
        actors: [proven.actor, ...grant.chain],
      });
    } else {
      // The pod's own projected token: the pod asks in its own name, for a token or for a grant to hand to an actor.
      if (request.actorToken !== undefined) {
        throw new IssuerError(
          "ActorRequiresGrant",
          "actor_token is accepted only with a delegation grant as subject_token; the delegating workload asks its sidecar for one (may_act) and never hands over its own token",
        );
      }
      const identity = await deps.verifier.verify(request.subjectToken);
      const pod = await bindToPod(identity);
      takeRate(pod.uid, `pod ${pod.namespace}/${pod.name}`);
      if (proof !== undefined) proofs.consume(proof, nowSeconds());
      subject = subjectFromToken({ identity, pod, namespace: await namespaceOf(identity.namespace), cluster: deps.cluster, actors: [] });
    }

    const mayAct = request.mayAct;
    const now = deps.now();
    // Asking for a grant is decided as if the named actor already acted: the policy must let it act, for these scopes.
    const decision = deps.decider.decide({
      subject: mayAct === undefined ? subject : { ...subject, actors: [namedActor(mayAct, deps.serviceAccountIssuer), ...subject.actors] },
      request: { audiences: request.audiences, scopes },
      now,
      id: deps.newId(),
    });
    if (!decision.allowed) {
      deps.recorder.record(decision, {});
      return denialOutcome(decision);
    }
    if (mayAct !== undefined) return grantOutcome(decision, subject, mayAct, now, request.requestedTokenType);
    const binding = bindingFor(decision, proof?.jkt);
    const minted = mintAccessToken({
      decision,
      key: deps.keys.current(),
      issuer: deps.issuer,
      now,
      ...("jkt" in binding ? { jkt: binding.jkt } : {}),
    });
    deps.recorder.record(decision, { jti: decision.id });
    const granted = decision.grant.scopes;
    return {
      status: 200,
      body: {
        access_token: minted.token,
        // The token is both an access token and a JWT; echo the type the client asked for.
        issued_token_type: request.requestedTokenType,
        token_type: binding.tokenType,
        expires_in: minted.expiresIn,
        // RFC 8693 section 2.2.1: scope is returned when it differs from what was asked.
        ...(sameSet(granted, request.scopes) ? {} : { scope: granted.join(" ") }),
      },
    };
  }

  /**
   * Mints a delegation grant: audience the issuer (no API accepts it), the decided scopes, the chain so far (without
   * the named actor, who has not acted yet), may_act, a short life, and never bound to the delegator's key.
   */
  function grantOutcome(
    decision: AllowedDecision,
    subject: Subject,
    mayAct: MayAct,
    now: Date,
    issuedType: ExchangeRequest["requestedTokenType"],
  ): ExchangeOutcome {
    const ttlSeconds = Math.min(decision.grant.ttlSeconds, DELEGATION_GRANT_MAX_TTL_SECONDS);
    const asGrant: AllowedDecision = {
      ...decision,
      subject,
      grant: { ...decision.grant, audiences: [deps.issuer], claims: {}, ttlSeconds },
    };
    const minted = mintAccessToken({
      decision: asGrant,
      key: deps.keys.current(),
      issuer: deps.issuer,
      now,
      extraClaims: grantClaims(mayAct, deps.serviceAccountIssuer, decision.grant.audiences),
    });
    deps.recorder.record(decision, { jti: decision.id });
    return {
      status: 200,
      body: {
        access_token: minted.token,
        issued_token_type: issuedType,
        token_type: TOKEN_TYPE_BEARER,
        expires_in: minted.expiresIn,
        scope: decision.grant.scopes.join(" "),
      },
    };
  }

  return async (body, dpop) => {
    try {
      return await run(body, dpop);
    } catch (error) {
      if (isIssuerError(error)) {
        // A rate-limited pod may try thousands of times a second: its refusals must not flood the log in turn.
        const level = error.code === "RateLimited" ? "debug" : "info";
        deps.logger[level]({ code: error.code, oauthError: error.oauthError }, "token exchange refused");
        const outcome = { status: error.httpStatus, body: { error: error.oauthError, error_description: error.message } };
        return error.retryAfterSeconds === undefined ? outcome : { ...outcome, retryAfterSeconds: error.retryAfterSeconds };
      }
      deps.logger.error({ err: error }, "token exchange failed");
      return errorOutcome("server_error", "the issuer failed to process the request; retry, and report it if it persists");
    }
  };
}
