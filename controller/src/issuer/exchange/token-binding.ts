// Whether a minted token is DPoP-bound: the one place that says when binding is required, and what follows from it.
import { TOKEN_TYPE_BEARER, TOKEN_TYPE_DPOP } from "../../../../api/constants.ts";
import type { AllowedDecision } from "../../policy/types.ts";
import { IssuerError } from "../errors.ts";

/**
 * Whether tokens for this decision must be bound. Today the policy that granted decides (spec.requireDPoP); when
 * audience contracts exist, the audience's owner will be able to require it too: add that here, and every caller
 * (the exchange, explain, the docs' promise that no bearer token is ever issued) follows.
 */
export function bindingRequired(decision: AllowedDecision): boolean {
  return decision.grant.requireDpop === true;
}

export type Binding = { readonly tokenType: typeof TOKEN_TYPE_BEARER } | { readonly tokenType: typeof TOKEN_TYPE_DPOP; readonly jkt: string };

/** The binding of the token to mint: bound whenever the request proved a key; refused when required and it did not. */
export function bindingFor(decision: AllowedDecision, proofJkt: string | undefined): Binding {
  if (proofJkt !== undefined) return { tokenType: TOKEN_TYPE_DPOP, jkt: proofJkt };
  if (bindingRequired(decision)) {
    const { kind, namespace, name } = decision.policy;
    const ref = namespace === undefined ? `${kind}/${name}` : `${kind}/${namespace}/${name}`;
    throw new IssuerError(
      "DpopProofRequired",
      `${ref} grants ${decision.grant.audiences.join(", ")} only as DPoP-bound tokens; send a DPoP proof (RFC 9449) with the request`,
    );
  }
  return { tokenType: TOKEN_TYPE_BEARER };
}
