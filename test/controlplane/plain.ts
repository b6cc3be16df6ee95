// Typed plain-object bodies for @kubernetes/client-node, whose models are data-only classes.
//
// client-node 1.x declares every model (V1Pod, V1ObjectMeta ...) as a class, but serializes requests from plain
// objects through its ObjectSerializer; the classes carry no behaviour. `kubeBody<V1Pod>({...})` keeps the full type
// check of the literal without pretending it came from a constructor.

/** The same shape as T, recursively, without the nominal class types. */
export type Plain<T> = T extends Date
  ? T
  : T extends readonly (infer U)[]
    ? Plain<U>[]
    : T extends object
      ? { [K in keyof T]: Plain<T[K]> }
      : T;

export function kubeBody<T>(value: Plain<T>): T {
  return value as T;
}
