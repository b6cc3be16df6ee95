// Engine defaults that policies may override within guardrails.

/** Token lifetime when a policy sets none: short, as every Tessera token should be. */
export const DEFAULT_TTL_SECONDS = 600;
/** Priority of a policy that sets none. */
export const DEFAULT_PRIORITY = 0;
