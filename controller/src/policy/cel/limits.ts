// Bounds on what policy expressions may cost: their size, the inputs they read, and the CPU one decision spends in CEL.
//
// @bufbuild/cel has no cost limit of its own, so Tessera meters evaluation itself (cost-meter.ts, metered-env.ts):
// one decision evaluates all its expressions under one budget, and an expression whose worst case on inputs
// within the bounds below exceeds that budget is refused when it is compiled (cost-estimate.ts). Regular
// expressions (`matches`) run on @bufbuild/re2, a JavaScript port of RE2: linear in the input, no backtracking,
// but slow enough (up to about 0.5 µs per character) that they are charged per character and pattern size.

/** Longest expression source, in characters. */
export const MAX_EXPRESSION_LENGTH = 2048;
/** Most syntax nodes after macro expansion. */
export const MAX_EXPRESSION_NODES = 400;
/** Deepest nesting of comprehensions (`all`, `exists`, `map`, `filter`, ...). */
export const MAX_COMPREHENSION_DEPTH = 2;
/** Largest serialized claim value, in bytes of JSON; bigger results fail evaluation. */
export const MAX_CLAIM_JSON_BYTES = 4096;

/**
 * Cost units one decision may spend evaluating CEL (conditions, claims and whatever else the decision evaluates
 * under the same meter). A unit is about one evaluated syntax node: 0.1 to 0.3 µs of CPU on the development
 * machine, so the budget holds a decision to a few milliseconds whatever the expressions and inputs
 * (docs/benchmarks.md, "CEL cost budget"). It is also the most one expression may cost in its static worst case.
 */
export const DECISION_COST_BUDGET = 25_000;

/**
 * How sized work is weighed: a character counts 1, an element of a list or entry of a map counts
 * ELEMENT_WEIGHT (comparing or copying one costs about as much as scanning that many characters), and
 * WEIGHT_PER_UNIT of weight cost one unit.
 */
export const ELEMENT_WEIGHT = 8;
export const WEIGHT_PER_UNIT = 32;

/**
 * The largest inputs expressions may read; the static worst case assumes them. Kubernetes itself bounds label
 * keys (317 characters with the prefix) and values (63) and object names (253), but not how many labels or
 * annotations an object has nor how long one annotation is (256 KiB together), and whoever creates the pod
 * chooses them. An input beyond its bound is never truncated: an expression that reads it is not evaluated and
 * the decision is denied (CostLimitExceeded) naming the input and the bound.
 */
export const INPUT_BOUNDS = {
  /** Entries of one labels or annotations map. */
  mapEntries: 128,
  /** A label or annotation key (Kubernetes: a 253-character prefix, a slash, a 63-character name). */
  keyChars: 317,
  /** A label value (Kubernetes' own limit). */
  labelValueChars: 63,
  /** An annotation value: long enough for the configuration snippets annotations usually carry. */
  annotationValueChars: 4096,
  /** Names: service accounts, namespaces, pods, nodes, owners, cluster name and environment. */
  nameChars: 253,
  /** Owner reference apiVersion and kind (group/version). */
  apiVersionChars: 317,
  /** Actors in the chain (the issuer accepts at most 16 nested `act` claims plus the current actor). */
  actors: 17,
  /** An actor's sub or iss. */
  actorChars: 1024,
  /** As the exchange request allows (issuer/exchange/request.ts). */
  audiences: 16,
  audienceChars: 512,
  scopes: 64,
  scopeChars: 256,
} as const;
