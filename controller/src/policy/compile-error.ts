// The shape of one compile problem, shared by every part of compilation (selectors, CEL, the policy as a whole).

/** One problem in a policy, at a field path such as `spec.claims[0].expression`. */
export interface CompileError {
  readonly path: string;
  readonly message: string;
}
