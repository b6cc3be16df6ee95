// An informer's cache: objects by key, with namespace and uid indexes so lookups never scan every pod.
import { objectKey, type CachedObject } from "./objects.ts";

export class Store<T extends CachedObject> {
  readonly #byKey = new Map<string, T>();
  readonly #byNamespace = new Map<string, Set<string>>();
  readonly #byUid = new Map<string, string>();

  get size(): number {
    return this.#byKey.size;
  }

  get(key: string): T | undefined {
    return this.#byKey.get(key);
  }

  getByUid(uid: string): T | undefined {
    const key = this.#byUid.get(uid);
    return key === undefined ? undefined : this.#byKey.get(key);
  }

  list(): T[] {
    return [...this.#byKey.values()];
  }

  keys(): string[] {
    return [...this.#byKey.keys()];
  }

  inNamespace(namespace: string): T[] {
    const keys = this.#byNamespace.get(namespace);
    if (keys === undefined) return [];
    const out: T[] = [];
    for (const key of keys) {
      const obj = this.#byKey.get(key);
      if (obj !== undefined) out.push(obj);
    }
    return out;
  }

  /** Inserts or replaces; returns the previous object. */
  upsert(obj: T): T | undefined {
    const key = objectKey(obj.metadata);
    const old = this.#byKey.get(key);
    if (old !== undefined && old.metadata.uid !== obj.metadata.uid) this.#byUid.delete(old.metadata.uid);
    this.#byKey.set(key, obj);
    this.#byUid.set(obj.metadata.uid, key);
    const ns = obj.metadata.namespace ?? "";
    let set = this.#byNamespace.get(ns);
    if (set === undefined) {
      set = new Set();
      this.#byNamespace.set(ns, set);
    }
    set.add(key);
    return old;
  }

  /** Removes by key; returns what was removed. */
  delete(key: string): T | undefined {
    const old = this.#byKey.get(key);
    if (old === undefined) return undefined;
    this.#byKey.delete(key);
    if (this.#byUid.get(old.metadata.uid) === key) this.#byUid.delete(old.metadata.uid);
    const ns = old.metadata.namespace ?? "";
    const set = this.#byNamespace.get(ns);
    set?.delete(key);
    if (set?.size === 0) this.#byNamespace.delete(ns);
    return old;
  }
}
