// Pure: the WWW-Authenticate challenges and JSON body of a refusal (RFC 6750 section 3, RFC 9449 section 7.1).
import { TOKEN_TYPE_BEARER, TOKEN_TYPE_DPOP } from "../api/constants.ts";
import type { VerifyError } from "./errors.ts";

export interface ChallengeContext {
  /** realm of the Bearer challenge: the API's audience. */
  readonly realm: string;
  readonly dpopAlgorithms: readonly string[];
  readonly allowBearer: boolean;
  /** The scheme the client used, when it sent a credential. */
  readonly scheme?: typeof TOKEN_TYPE_BEARER | typeof TOKEN_TYPE_DPOP;
  /** The scopes the route requires, named in insufficient_scope challenges. */
  readonly scopes: readonly string[];
}

export interface Refusal {
  readonly status: number;
  /** One challenge per scheme, each its own WWW-Authenticate header. Empty for 503. */
  readonly challenges: readonly string[];
  readonly body: { readonly error?: string; readonly error_description: string };
}

/** RFC 6750 section 3: error_description and scope use %x20-21 / %x23-5B / %x5D-7E only (no quote, no backslash). */
function quoted(value: string): string {
  return `"${value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "").slice(0, 512)}"`;
}

export function refusalOf(error: VerifyError, context: ChallengeContext): Refusal {
  const code = error.challengeError;
  const body = { ...(code === undefined ? {} : { error: code }), error_description: error.message };
  if (error.status === 503) return { status: 503, challenges: [], body };
  const params = (extra: readonly string[]): string =>
    [
      ...extra,
      ...(code === undefined ? [] : [`error=${quoted(code)}`, `error_description=${quoted(error.message)}`]),
      ...(code === "insufficient_scope" && context.scopes.length > 0 ? [`scope=${quoted(context.scopes.join(" "))}`] : []),
    ].join(", ");
  const bearerBase = [`realm=${quoted(context.realm)}`];
  const dpopBase = [`algs=${quoted(context.dpopAlgorithms.join(" "))}`];
  // The error goes in the challenge of the scheme it concerns; the other scheme is offered bare, so a client learns
  // what else the API accepts.
  const errorScheme = error.dpopRelated || context.scheme === TOKEN_TYPE_DPOP || !context.allowBearer ? TOKEN_TYPE_DPOP : TOKEN_TYPE_BEARER;
  const dpop = `${TOKEN_TYPE_DPOP} ${params(dpopBase)}`;
  const bearer = `${TOKEN_TYPE_BEARER} ${params(bearerBase)}`;
  const challenges =
    errorScheme === TOKEN_TYPE_DPOP
      ? [dpop, ...(context.allowBearer ? [`${TOKEN_TYPE_BEARER} ${bearerBase.join(", ")}`] : [])]
      : [bearer, `${TOKEN_TYPE_DPOP} ${dpopBase.join(", ")}`];
  return { status: error.status, challenges, body };
}
