// Which claim names a policy may set at all: never an issuer-owned or Tessera claim, whatever the kind or letter case.
//
// Names are compared case-insensitively: resource servers and their libraries differ in how they read claim names
// (`Groups` and `groups` are the same claim to some), so a name reserved in one spelling is reserved in all.

import {
  CLUSTER_RESERVED_CLAIMS,
  FORBIDDEN_CLAIM_NAMES,
  ISSUER_OWNED_CLAIMS,
  TESSERA_CLAIM_PREFIX,
} from "../../../api/constants.ts";

const lower = (names: readonly string[]): ReadonlySet<string> => new Set(names.map((n) => n.toLowerCase()));
const ISSUER_OWNED = lower(ISSUER_OWNED_CLAIMS);
const CLUSTER_RESERVED = lower(CLUSTER_RESERVED_CLAIMS);
const FORBIDDEN = lower(FORBIDDEN_CLAIM_NAMES);
/** Printable claim names without spaces; `/`, `.`, `:` and `-` allow namespaced names like `example.com/team`. */
const CLAIM_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,252}$/;

/** The form reserved names are compared in. */
export function claimKey(name: string): string {
  return name.toLowerCase();
}

export function isIssuerOwnedClaim(name: string): boolean {
  const key = claimKey(name);
  return ISSUER_OWNED.has(key) || FORBIDDEN.has(key) || key.startsWith(TESSERA_CLAIM_PREFIX);
}

/** Claims only ClusterTokenPolicies may set (before any guardrail reserves more). */
export function isClusterReservedClaim(name: string): boolean {
  return CLUSTER_RESERVED.has(claimKey(name));
}

/** Why `name` can never be a policy claim, or undefined when it can. */
export function claimNameProblem(name: string): string | undefined {
  const value: unknown = name;
  if (typeof value !== "string" || !CLAIM_NAME.test(value)) {
    return `claim name '${String(value)}' must be 1-253 characters of letters, digits and _ . : / -`;
  }
  const key = claimKey(name);
  if (FORBIDDEN.has(key)) return `'${name}' can never be a claim name: JSON readers in many languages treat it as an object's prototype`;
  if (ISSUER_OWNED.has(key)) return `claim '${name}' is set by the issuer; no policy may set it (names are compared in any letter case)`;
  if (key.startsWith(TESSERA_CLAIM_PREFIX)) {
    return `claims under '${TESSERA_CLAIM_PREFIX}' are Tessera's own; no policy may set them`;
  }
  return undefined;
}
