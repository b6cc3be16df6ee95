// RFC 8693 token exchange and RFC 6749 error wire types, shared by the issuer and the sidecar.
import {
  CHANGE_REASON_CHANGED,
  CHANGE_REASON_INITIAL,
  CHANGE_REASON_LABELS_CHANGED,
  CHANGE_REASON_POD_DELETED,
  CHANGE_REASON_POLICY_CHANGED,
  CHANGE_REASON_UNSPECIFIED,
} from "./constants.ts";

/** Successful token exchange response (RFC 8693 section 2.2.1). */
export interface TokenExchangeResponse {
  readonly access_token: string;
  readonly issued_token_type: string;
  /** Bearer, or DPoP when the token is bound to the key of the proof the request carried (RFC 9449 section 5). */
  readonly token_type: "Bearer" | "DPoP";
  readonly expires_in: number;
  /** Present when the granted scope differs from the requested one. */
  readonly scope?: string;
}

/** Error codes of RFC 6749 section 5.2, RFC 8693 section 2.2.2 and RFC 9449 section 5. */
export const OAUTH_ERROR_CODES = [
  "invalid_request",
  "invalid_client",
  "invalid_grant",
  "unauthorized_client",
  "unsupported_grant_type",
  "invalid_scope",
  "invalid_target",
  "access_denied",
  "server_error",
  "temporarily_unavailable",
  // RFC 9449 section 5: the DPoP proof of a token request is missing (when the policy requires one) or invalid.
  "invalid_dpop_proof",
] as const;
export type OAuthErrorCode = (typeof OAUTH_ERROR_CODES)[number];

/** Error response body (RFC 6749 section 5.2), plus Tessera's decision reason when a policy denied. */
export interface OAuthErrorResponse {
  readonly error: OAuthErrorCode;
  readonly error_description: string;
  /** Machine-readable denial reason from the policy decision (see DenialReason). */
  readonly tessera_reason?: string;
  /** Decision id: find the decision record in the issuer's log. */
  readonly tessera_decision_id?: string;
}

/** RFC 7662 introspection response. */
export interface IntrospectionResponse {
  readonly active: boolean;
  readonly [claim: string]: unknown;
}

/** One token the sidecar holds, as configured by the webhook (ENV_TOKENS). */
export interface SidecarTokenSpec {
  /** File name under the token directory, and the key an application may ask for. */
  readonly name: string;
  readonly audience: string;
  readonly scopes?: readonly string[];
}

/** Every reason a re-issuance answer may carry (the CHANGE_REASON_* constants); a closed set. */
export const ENTITLEMENT_CHANGE_REASONS = [
  CHANGE_REASON_INITIAL,
  CHANGE_REASON_CHANGED,
  CHANGE_REASON_POLICY_CHANGED,
  CHANGE_REASON_LABELS_CHANGED,
  CHANGE_REASON_POD_DELETED,
  CHANGE_REASON_UNSPECIFIED,
] as const;
export type EntitlementChangeReason = (typeof ENTITLEMENT_CHANGE_REASONS)[number];

/** A message on the re-issuance channel: the pod's entitlement changed, refresh now. */
export interface EntitlementChange {
  /** Monotonic version of the pod's entitlement; the sidecar sends the last one it saw. */
  readonly version: string;
  /**
   * Why: initial (first poll), changed (stale on arrival), policy-changed, labels-changed, or pod-deleted (with an
   * empty version). The issuer never sends unspecified; a sidecar records it for a missing or unknown reason.
   */
  readonly reason: EntitlementChangeReason;
}
