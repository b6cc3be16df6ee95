// Whether a minted token is DPoP-bound: the one place that says when binding is required, and what follows from it.
import { TOKEN_TYPE_BEARER, TOKEN_TYPE_DPOP } from "../../../../api/constants.ts";
import type { AllowedDecision } from "../../policy/types.ts";
import { IssuerError } from "../errors.ts";

/**
 * Whether tokens for this decision must be bound: the decision says who requires it (the granting policy, an
 * audience owner's contract, or both), and every caller (the exchange, explain) asks here.
 */
export function bindingRequired(decision: AllowedDecision): boolean {
  return (decision.grant.dpopRequiredBy ?? []).length > 0;
}

export type Binding = { readonly tokenType: typeof TOKEN_TYPE_BEARER } | { readonly tokenType: typeof TOKEN_TYPE_DPOP; readonly jkt: string };

/** The binding of the token to mint: bound whenever the request proved a key; refused when required and it did not. */
export function bindingFor(decision: AllowedDecision, proofJkt: string | undefined): Binding {
  if (proofJkt !== undefined) return { tokenType: TOKEN_TYPE_DPOP, jkt: proofJkt };
  const requiredBy = decision.grant.dpopRequiredBy ?? [];
  if (requiredBy.length > 0) {
    const verb = requiredBy.length === 1 ? "allows" : "allow";
    throw new IssuerError(
      "DpopProofRequired",
      `${requiredBy.join(" and ")} ${verb} ${decision.grant.audiences.join(", ")} only as DPoP-bound tokens; send a DPoP proof (RFC 9449) with the request`,
    );
  }
  return { tokenType: TOKEN_TYPE_BEARER };
}
