// tessera/verify: verify Tessera access tokens (and their DPoP proofs) in an API written for Node.
export { createVerifier, ACCESS_TOKEN_ALGORITHMS } from "./verifier.ts";
export type { Verifier, VerifierOptions, DpopOptions, RequestFacts, VerifiedRequest } from "./verifier.ts";
export type { TesseraClaims, Actor, PolicyRef, PodRef } from "./claims.ts";
export { VerifyError, isVerifyError } from "./errors.ts";
export type { VerifyErrorCode, ChallengeError } from "./errors.ts";
export { tokenGuard } from "./express.ts";
export type { GuardOptions, TokenGuard, TokenRequirements } from "./express.ts";
export type { IntrospectionOptions } from "./introspection.ts";
export { httpsFetch } from "./https-fetch.ts";
export type { HttpsFetchOptions } from "./https-fetch.ts";
