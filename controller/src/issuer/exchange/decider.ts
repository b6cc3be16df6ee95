// The narrow face of the policy engine the exchange uses, so the pipeline can be tested with any policy source.
import type { Decision, Subject, TokenRequest } from "../../policy/types.ts";

export interface DecideInput {
  readonly subject: Subject;
  readonly request: TokenRequest;
  readonly now: Date;
  /** Decision id; becomes the jti when allowed. */
  readonly id: string;
}

/** Decides one request. Pure with respect to its inputs and the policies it holds. */
export interface Decider {
  decide(input: DecideInput): Decision;
}
