// The express shell: requireToken({ scopes, claims? }) verifies the request, answers 401/403 with challenges, or
// puts the verified token on req.tessera.
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { HEADER_DPOP, HEADER_DPOP_NONCE, MEDIA_TYPE_JSON } from "../api/constants.ts";
import type { TesseraClaims } from "./claims.ts";
import { refusalOf } from "./challenge.ts";
import { VerifyError, isVerifyError } from "./errors.ts";
import type { Verifier, VerifiedRequest } from "./verifier.ts";

declare module "express-serve-static-core" {
  interface Request {
    /** Set by requireToken once the token (and its DPoP proof) verified. */
    tessera?: VerifiedRequest;
  }
}

export interface GuardOptions {
  /**
   * The origin clients call this API at (https://payments.shop.svc:8443). DPoP proofs are checked against it plus the
   * request path; it is configured, never taken from the Host header, which the client controls.
   */
  readonly origin: string;
  /** Told about unexpected failures (never the token); default: nothing. */
  readonly onError?: (error: unknown) => void;
}

/** What a route requires of a verified token. */
export interface TokenRequirements {
  /** Every one of these scopes must be granted. */
  readonly scopes?: readonly string[];
  /** Exact values of claims (e.g. { "tessera.dev/namespace": "shop" }), or a check returning true or a reason. */
  readonly claims?: Readonly<Record<string, string | number | boolean>> | ((token: TesseraClaims) => true | string);
}

export interface TokenGuard {
  /** A middleware for one route; an arrow property, so `const { requireToken } = tokenGuard(...)` is safe. */
  readonly requireToken: (requirements?: TokenRequirements) => RequestHandler;
}

function claimsProblem(token: TesseraClaims, claims: TokenRequirements["claims"]): string | undefined {
  if (claims === undefined) return undefined;
  if (typeof claims === "function") {
    const verdict = claims(token);
    return verdict === true ? undefined : verdict;
  }
  for (const [name, value] of Object.entries(claims)) {
    if (token.raw[name] !== value) return `the token's ${name} claim does not allow this request`;
  }
  return undefined;
}

export function tokenGuard(verifier: Verifier, options: GuardOptions): TokenGuard {
  const origin = new URL(options.origin);
  if (origin.pathname !== "/" || origin.search !== "" || origin.hash !== "") throw new TypeError("origin must be scheme://host[:port] only");
  const base = origin.origin;
  const allowBearer = verifier.allowBearer;

  return {
    requireToken: (requirements = {}) => {
      const scopes = requirements.scopes ?? [];
      return (req: Request, res: Response, next: NextFunction) => {
        const refuse = (error: VerifyError): void => {
          const scheme = /^\s*dpop\s/i.test(req.headers.authorization ?? "") ? "DPoP" : /^\s*bearer\s/i.test(req.headers.authorization ?? "") ? "Bearer" : undefined;
          const refusal = refusalOf(error, { realm: verifier.audience, dpopAlgorithms: verifier.dpopAlgorithms, allowBearer, scopes, ...(scheme === undefined ? {} : { scheme }) });
          if (refusal.challenges.length > 0) res.setHeader("WWW-Authenticate", [...refusal.challenges]);
          if (refusal.status === 503) res.setHeader("Retry-After", "5");
          res.status(refusal.status).type(MEDIA_TYPE_JSON).set("Cache-Control", "no-store").send(JSON.stringify(refusal.body));
        };
        const nonce = verifier.currentNonce();
        // RFC 9449 section 9: a nonce on every answer lets clients stay current without a failed request.
        if (nonce !== undefined) res.setHeader(HEADER_DPOP_NONCE, nonce);
        verifier
          .verifyRequest({
            // Distinct values: Node keeps only the first of repeated Authorization headers, and two must be refused.
            authorization: req.headersDistinct["authorization"],
            dpop: req.headersDistinct[HEADER_DPOP.toLowerCase()],
            method: req.method,
            url: `${base}${req.originalUrl}`,
          })
          .then((verified) => {
            const missing = scopes.filter((s) => !verified.token.scopes.includes(s));
            if (missing.length > 0) {
              refuse(new VerifyError("InsufficientScope", `the token lacks scope ${missing.join(" ")}; ask for it in the exchange`));
              return;
            }
            const problem = claimsProblem(verified.token, requirements.claims);
            if (problem !== undefined) {
              refuse(new VerifyError("ClaimsRejected", problem));
              return;
            }
            req.tessera = verified;
            next();
          })
          .catch((error: unknown) => {
            if (isVerifyError(error)) {
              refuse(error);
              return;
            }
            options.onError?.(error);
            refuse(new VerifyError("IssuerUnavailable", "the token could not be checked; retry shortly"));
          });
      };
    },
  };
}
