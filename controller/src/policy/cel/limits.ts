// Bounds on what one policy expression may cost, enforced when it is compiled.
//
// @bufbuild/cel has no runtime cost limit, so cost is bounded statically: a short source, a bounded syntax
// tree, and at most two nested comprehensions. The inputs are bounded by Kubernetes itself (labels and
// annotations of one object, at most 256 KiB; the actor chain by the delegation limits), so the worst case
// is a few nested passes over one object's metadata. Regular expressions run on RE2 (linear time).

/** Longest expression source, in characters. */
export const MAX_EXPRESSION_LENGTH = 2048;
/** Most syntax nodes after macro expansion. */
export const MAX_EXPRESSION_NODES = 400;
/** Deepest nesting of comprehensions (`all`, `exists`, `map`, `filter`, ...). */
export const MAX_COMPREHENSION_DEPTH = 2;
/** Largest serialized claim value, in bytes of JSON; bigger results fail evaluation. */
export const MAX_CLAIM_JSON_BYTES = 4096;
