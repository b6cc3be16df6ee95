// Teardown steps that say which one is still running: a hook timeout alone names the hook, not the step that hung.

/** How often a slow step reports that it is still running. */
const REPORT_EVERY_MS = 15_000;

/**
 * Runs the steps in order. A step still running after REPORT_EVERY_MS is named on the console, again every
 * REPORT_EVERY_MS, so a teardown that outlives its hook's timeout leaves the culprit in the test output.
 */
export async function teardownSteps(steps: readonly (readonly [name: string, step: () => Promise<void>])[]): Promise<void> {
  for (const [name, step] of steps) {
    const started = Date.now();
    const reporter = setInterval(() => {
      console.log(`[teardown] ${name} still running after ${String(Math.round((Date.now() - started) / 1000))} s`);
    }, REPORT_EVERY_MS);
    try {
      await step();
    } finally {
      clearInterval(reporter);
    }
  }
}
