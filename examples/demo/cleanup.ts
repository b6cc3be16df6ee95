// What the demo must undo, registered as it goes and run once: webhooks first, then everything else newest first.

/** One thing to undo; `first` marks what must go before anything else (webhooks that would block the rest). */
interface Undo {
  readonly what: string;
  readonly first: boolean;
  readonly run: () => Promise<void>;
}

export interface CleanupResult {
  readonly what: string;
  readonly ok: boolean;
  /** Why it failed, for a person. */
  readonly error?: string;
}

export class Cleanup {
  readonly #undo: Undo[] = [];
  #running: Promise<CleanupResult[]> | undefined;

  /** Registers an undo action; `first` ones run before the rest (in registration order reversed, like the rest). */
  add(what: string, run: () => Promise<void>, options: { first?: boolean } = {}): void {
    this.#undo.push({ what, first: options.first === true, run });
  }

  /** Runs every action once, never throwing; later calls return the same results. */
  run(): Promise<CleanupResult[]> {
    this.#running ??= this.#runAll();
    return this.#running;
  }

  async #runAll(): Promise<CleanupResult[]> {
    const ordered = [...this.#undo.filter((u) => u.first).reverse(), ...this.#undo.filter((u) => !u.first).reverse()];
    const results: CleanupResult[] = [];
    for (const undo of ordered) {
      try {
        await undo.run();
        results.push({ what: undo.what, ok: true });
      } catch (err) {
        results.push({ what: undo.what, ok: false, error: err instanceof Error ? err.message : String(err) });
      }
    }
    return results;
  }
}
