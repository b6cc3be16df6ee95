// Pure: the credential of a request, from its Authorization and DPoP headers (RFC 6750 section 2.1, RFC 9449 section 7.1).
import { TOKEN_TYPE_BEARER, TOKEN_TYPE_DPOP } from "../api/constants.ts";
import { MAX_TOKEN_CHARS } from "./access-token.ts";
import { VerifyError } from "./errors.ts";

export interface Credential {
  readonly scheme: typeof TOKEN_TYPE_BEARER | typeof TOKEN_TYPE_DPOP;
  readonly token: string;
  /** The DPoP header's proof, when exactly one was sent. */
  readonly proof?: string;
}

// RFC 6750 section 2.1 b64token, which is also RFC 9449's token68 for the DPoP scheme.
const CREDENTIALS = /^([A-Za-z]+) +([A-Za-z0-9\-._~+/]+=*) *$/;

/** Header values as Node gives them: undefined, one string, or several for a repeated header. */
type HeaderValue = string | readonly string[] | undefined;

function single(value: HeaderValue, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string") return value;
  // RFC 9449 section 4.3 step 1 and RFC 6750 section 2: exactly one of each.
  if (value.length > 1) throw new VerifyError("RequestMalformed", `send one ${name} header, not ${value.length}`);
  return value[0];
}

/** Undefined when the request carries no credential; throws VerifyError("RequestMalformed") when it carries a broken one. */
export function credentialOf(authorization: HeaderValue, dpop: HeaderValue): Credential | undefined {
  const header = single(authorization, "Authorization");
  const proof = single(dpop, "DPoP");
  if (header === undefined || header === "") return undefined;
  if (header.length > MAX_TOKEN_CHARS + 16) throw new VerifyError("RequestMalformed", "the Authorization header is too long");
  const match = CREDENTIALS.exec(header);
  const scheme = match?.[1]?.toLowerCase();
  const token = match?.[2];
  if (token === undefined || scheme === undefined) {
    throw new VerifyError("RequestMalformed", `send Authorization: ${TOKEN_TYPE_DPOP} <token> with a DPoP proof, or ${TOKEN_TYPE_BEARER} <token>`);
  }
  if (scheme === "bearer") return { scheme: TOKEN_TYPE_BEARER, token, ...(proof === undefined ? {} : { proof }) };
  if (scheme === "dpop") return { scheme: TOKEN_TYPE_DPOP, token, ...(proof === undefined ? {} : { proof }) };
  throw new VerifyError("RequestMalformed", `the ${match?.[1] ?? ""} scheme is not supported; use ${TOKEN_TYPE_DPOP} or ${TOKEN_TYPE_BEARER}`);
}
