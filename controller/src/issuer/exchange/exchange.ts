// The token-exchange pipeline: parse, verify, bind to the pod, build the subject, decide, mint, record, respond.
import type { Logger } from "pino";
import type { OAuthErrorCode, OAuthErrorResponse, TokenExchangeResponse } from "../../../../api/exchange.ts";
import type { Actor, DeniedDecision, DenialReason } from "../../policy/types.ts";
import { actorsFromActClaim, verifyAccessToken, type TesseraKeyLookup } from "../keys/access-token.ts";
import type { Decider } from "./decider.ts";
import type { DecisionRecorder } from "../record/decision-recorder.ts";
import { IssuerError, httpStatusOf, isIssuerError } from "../errors.ts";
import { decodeCompactJws } from "../keys/jws.ts";
import type { SigningKey } from "../keys/keys.ts";
import { mintAccessToken } from "./mint.ts";
import { checkPodBinding, type NamespaceLookup, type PodLookup } from "../subject/pod-lookup.ts";
import type { PodRateLimiter } from "./pod-rate-limit.ts";
import { parseExchangeRequest } from "./request.ts";
import { DEFAULT_LEEWAY_SECONDS, isAccessTokenTyp, type ServiceAccountIdentity } from "../subject/service-account-token.ts";
import { actorFromServiceAccount, subjectFromToken, type ClusterInfo } from "../subject/subject.ts";
import type { SubjectVerifier } from "../subject/subject-verifier.ts";
import { CLAIM_CONFIRMATION, CLAIM_NAMESPACE, CLAIM_SERVICE_ACCOUNT } from "../../../../api/constants.ts";
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
  /** Tessera's issuer URL; also the audience an actor's Tessera token must carry. */
  readonly issuer: string;
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

  async function bindToPod(identity: ServiceAccountIdentity) {
    return checkPodBinding(identity, await deps.pods.get(identity.namespace, identity.pod.name));
  }

  async function verifyActor(token: string): Promise<Actor[]> {
    try {
      const header = decodeCompactJws(token).header;
      if (isAccessTokenTyp(header["typ"])) {
        // A Tessera token held by the actor: its own act chain continues behind it.
        const verified = verifyAccessToken(
          token,
          deps.keys,
          { issuer: deps.issuer, audience: deps.issuer, leewaySeconds: DEFAULT_LEEWAY_SECONDS },
          Math.floor(deps.now().getTime() / 1000),
        );
        // A bound token presented without a proof of its key is a bearer use of it: what binding exists to stop.
        if (verified.claims[CLAIM_CONFIRMATION] !== undefined) {
          throw new IssuerError("ActorInvalid", "actor_token: a DPoP-bound token cannot be an actor token; use the actor's projected token");
        }
        const namespace = verified.claims[CLAIM_NAMESPACE];
        const name = verified.claims[CLAIM_SERVICE_ACCOUNT];
        const current: Actor = {
          sub: verified.sub,
          iss: deps.issuer,
          ...(typeof namespace === "string" && typeof name === "string" ? { serviceAccount: { namespace, name } } : {}),
        };
        return [current, ...actorsFromActClaim(verified.claims["act"])];
      }
      // Otherwise the projected token of the actor's own pod, held to the same rules as a subject token.
      const identity = await deps.verifier.verify(token);
      await bindToPod(identity);
      return [actorFromServiceAccount(identity)];
    } catch (error) {
      if (isIssuerError(error) && error.oauthError === "invalid_grant") {
        throw new IssuerError("ActorInvalid", `actor_token: ${error.message}`, { cause: error });
      }
      throw error;
    }
  }

  async function run(body: string, dpop: DpopHeader): Promise<ExchangeOutcome> {
    const request = parseExchangeRequest(body);
    // Checked before the subject token (a bad proof is refused cheaply) but recorded only after the pod is verified and
    // within its rate, so only a real pod's own exchanges can occupy the replay cache.
    const proof = proofs.check(dpop, Math.floor(deps.now().getTime() / 1000));
    const identity = await deps.verifier.verify(request.subjectToken);
    const pod = await bindToPod(identity);
    // Only now is the key a verified, bound pod: a caller cannot spend another pod's share or grow the map at will.
    const rate = deps.rateLimiter?.take(pod.uid, deps.now().getTime());
    if (rate !== undefined && !rate.allowed) {
      throw new IssuerError("RateLimited", `pod ${pod.namespace}/${pod.name} exchanges too often; retry in ${rate.retryAfterSeconds} s`, {
        retryAfterSeconds: rate.retryAfterSeconds,
      });
    }
    if (proof !== undefined) proofs.consume(proof, Math.floor(deps.now().getTime() / 1000));
    const namespace = await deps.namespaces.get(identity.namespace);
    if (namespace === undefined) {
      throw new IssuerError("NamespaceNotFound", `namespace ${identity.namespace} does not exist`);
    }
    const actors = request.actorToken === undefined ? [] : await verifyActor(request.actorToken);
    const subject = subjectFromToken({ identity, pod, namespace, cluster: deps.cluster, actors });
    const now = deps.now();
    const decision = deps.decider.decide({
      subject,
      request: { audiences: request.audiences, scopes: request.scopes },
      now,
      id: deps.newId(),
    });
    if (!decision.allowed) {
      deps.recorder.record(decision, {});
      return denialOutcome(decision);
    }
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
