// The issuer's discovery document (OpenID-style and RFC 8414): what a verifier needs to check Tessera tokens offline.
import {
  DPOP_SIGNING_ALGORITHMS,
  GRANT_TYPE_TOKEN_EXCHANGE,
  PATH_EXPLAIN,
  PATH_INTROSPECT,
  PATH_JWKS,
  PATH_REVOKE,
  PATH_TOKEN,
} from "../../../../api/constants.ts";
import { SIGNING_ALGORITHMS } from "./keys.ts";

/** Pure: the discovery document for an issuer URL. */
export function discoveryDocument(issuer: string): Record<string, unknown> {
  const base = issuer.replace(/\/$/, "");
  return {
    issuer,
    jwks_uri: `${base}${PATH_JWKS}`,
    token_endpoint: `${base}${PATH_TOKEN}`,
    introspection_endpoint: `${base}${PATH_INTROSPECT}`,
    revocation_endpoint: `${base}${PATH_REVOKE}`,
    explain_endpoint: `${base}${PATH_EXPLAIN}`,
    grant_types_supported: [GRANT_TYPE_TOKEN_EXCHANGE],
    // Clients prove who they are with the subject token itself, not with client credentials.
    token_endpoint_auth_methods_supported: ["none"],
    introspection_endpoint_auth_methods_supported: ["bearer"],
    revocation_endpoint_auth_methods_supported: ["bearer"],
    response_types_supported: [],
    subject_types_supported: ["public"],
    access_token_signing_alg_values_supported: [...SIGNING_ALGORITHMS],
    id_token_signing_alg_values_supported: [...SIGNING_ALGORITHMS],
    // RFC 9449 section 5.1: the token endpoint accepts DPoP proofs signed with these and binds the token to the key.
    dpop_signing_alg_values_supported: [...DPOP_SIGNING_ALGORITHMS],
  };
}
