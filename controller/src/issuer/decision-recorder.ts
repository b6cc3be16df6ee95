// The issuer's audit hook: every decision, allowed or denied, is handed to a recorder after it is made.

import type { Decision } from "../policy/types.ts";

/** Receives every decision the issuer makes; `jti` is set when a token was minted. Must never throw. */
export interface DecisionRecorder {
  record(decision: Decision, outcome: { jti?: string }): void;
}
