// Runs the demo's steps in order, timing each and turning a failure into a reported section instead of a stack trace.
import { summarizeApiError } from "../../test/controlplane/api-error.ts";
import type { DemoRow, DemoSection } from "./report.ts";

/** What a step hands back: rows for people, data for machines, and a value for the steps after it. */
export interface StepResult<T> {
  readonly rows: readonly DemoRow[];
  readonly data: Readonly<Record<string, unknown>>;
  readonly value: T;
}

/** A step could not do its job; the message is for a person and says what to look at. */
export class DemoStepError extends Error {
  override readonly name = "DemoStepError";
  readonly code = "DEMO_STEP_FAILED" as const;
}

/** Thrown after a failed step was recorded: the remaining steps are skipped. */
export class DemoStopped extends Error {
  override readonly name = "DemoStopped";
  readonly code = "DEMO_STOPPED" as const;
}

export function describeError(err: unknown): string {
  return summarizeApiError(err).message;
}

export class DemoRunner {
  readonly sections: DemoSection[] = [];
  readonly #log: (line: string) => void;
  readonly #now: () => number;
  readonly #signal: AbortSignal;

  constructor(options: { log: (line: string) => void; now: () => number; signal: AbortSignal }) {
    this.#log = options.log;
    this.#now = options.now;
    this.#signal = options.signal;
  }

  #interrupted(): boolean {
    return this.#signal.aborted;
  }

  async step<T>(id: string, title: string, run: () => Promise<StepResult<T>>): Promise<T> {
    if (this.#interrupted()) throw new DemoStopped("interrupted");
    this.#log(title);
    const started = this.#now();
    try {
      const result = await run();
      this.sections.push({ id, title, ok: true, elapsedMs: this.#now() - started, rows: result.rows, data: result.data });
      return result.value;
    } catch (err) {
      // A step that fails because the clean-up pulled things from under it is not a failure to report.
      if (this.#interrupted()) throw new DemoStopped("interrupted");
      const message = describeError(err);
      this.sections.push({
        id,
        title,
        ok: false,
        elapsedMs: this.#now() - started,
        rows: [{ label: "error", value: message, failed: true }],
        data: { error: message },
      });
      throw new DemoStopped(`${title}: ${message}`);
    }
  }
}
