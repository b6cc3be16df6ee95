// Where every policy decision goes once made (the decision log, metrics, events): the issuer only knows this interface.
import type { Decision } from "../../policy/types.ts";

/** Receives each decision, allowed or denied. Must not throw and must not block the response. */
export interface DecisionRecorder {
  /** `outcome.jti` is the minted token's id when a token was issued. */
  record(decision: Decision, outcome: { readonly jti?: string }): void;
}
