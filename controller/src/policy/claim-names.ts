// Which claim names a policy may set at all: never an issuer-owned or Tessera claim, whatever the kind.

import { ISSUER_OWNED_CLAIMS, TESSERA_CLAIM_PREFIX } from "../../../api/constants.ts";

const ISSUER_OWNED: ReadonlySet<string> = new Set(ISSUER_OWNED_CLAIMS);
/** Printable claim names without spaces; `/`, `.`, `:` and `-` allow namespaced names like `example.com/team`. */
const CLAIM_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,252}$/;

export function isIssuerOwnedClaim(name: string): boolean {
  return ISSUER_OWNED.has(name) || name.startsWith(TESSERA_CLAIM_PREFIX);
}

/** Why `name` can never be a policy claim, or undefined when it can. */
export function claimNameProblem(name: string): string | undefined {
  if (!CLAIM_NAME.test(name)) {
    return `claim name '${name}' must be 1-253 characters of letters, digits and _ . : / -`;
  }
  if (ISSUER_OWNED.has(name)) return `claim '${name}' is set by the issuer; no policy may set it`;
  if (name.startsWith(TESSERA_CLAIM_PREFIX)) {
    return `claims under '${TESSERA_CLAIM_PREFIX}' are Tessera's own; no policy may set them`;
  }
  return undefined;
}
