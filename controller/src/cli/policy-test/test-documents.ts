// Pure: one directory's loaded documents into a test report: suites found, manifests compiled, every case decided.

import type { LoadProblem, LoadedDocument } from "../manifests/documents.ts";
import { compileSnapshot, snapshotOf } from "../manifests/snapshot.ts";
import { runSuite, type SuiteResult } from "./run.ts";
import { isSuiteDocument, parseSuite } from "./suite.ts";

export interface TestReport {
  readonly suites: readonly SuiteResult[];
  /** Files that did not parse and manifests that did not compile: either makes the run fail. */
  readonly problems: readonly LoadProblem[];
  readonly ok: boolean;
}

/**
 * Every suite among the documents, run against every manifest among them. A manifest that does not compile fails
 * the run: a suite expecting a denial would otherwise pass because the policy was rejected, not because it denies.
 */
export function testDocuments(documents: readonly LoadedDocument[], loadProblems: readonly LoadProblem[], now: Date): TestReport {
  const suiteDocs = documents.filter((d) => isSuiteDocument(d.value));
  const manifests = documents.filter((d) => !isSuiteDocument(d.value));
  const { snapshot, problems: shapeProblems } = snapshotOf(manifests);
  const { set, problems: compileProblems } = compileSnapshot(snapshot);
  const suites = suiteDocs.map((doc): SuiteResult => {
    const parsed = parseSuite(doc);
    if (!parsed.ok) return { name: parsed.name, location: parsed.location, cases: [], errors: parsed.errors };
    const { suite } = parsed;
    if (suite.extraManifests.length === 0) return runSuite(suite, { set, snapshot }, now);
    // The suite's own additions join the directory's manifests for this suite only.
    const extra = suite.extraManifests.map((value, index) => ({ file: `${suite.location} spec.extraManifests`, index, value }));
    const own = snapshotOf([...manifests, ...extra]);
    const compiled = compileSnapshot(own.snapshot);
    // Problems of the directory's own manifests are reported once, for the run; only the additions' are the suite's.
    const inherited = new Set([...shapeProblems, ...compileProblems].map(problemText));
    const ownErrors = [...own.problems, ...compiled.problems].map(problemText).filter((e) => !inherited.has(e));
    if (ownErrors.length > 0) return { name: suite.name, location: suite.location, cases: [], errors: ownErrors };
    return runSuite(suite, { set: compiled.set, snapshot: own.snapshot }, now);
  });
  const problems = [...loadProblems, ...shapeProblems, ...compileProblems];
  return { suites, problems, ok: problems.length === 0 && suites.every(suitePassed) };
}

/** Merges the reports of several directories, each tested on its own manifests. */
export function mergeReports(reports: readonly TestReport[]): TestReport {
  return {
    suites: reports.flatMap((r) => r.suites),
    problems: reports.flatMap((r) => r.problems),
    ok: reports.every((r) => r.ok),
  };
}

export function suitePassed(suite: SuiteResult): boolean {
  return suite.errors.length === 0 && suite.cases.every((c) => c.passed);
}

function problemText(p: LoadProblem): string {
  return `${p.file}: ${p.message}`;
}
