// Runs test suites against a compiled snapshot with the issuer's own engine (decide), and compares each decision.
//
// Pure: the clock is passed in, nothing is read or written. Each case's subject is built by policy/subject.ts, as
// the exchange builds a real caller's, so a suite decides exactly what the issuer would for that caller.

import { isDeepStrictEqual } from "node:util";
import { K8S_SERVICE_ACCOUNT_SUBJECT_PREFIX } from "../../../../api/constants.ts";
import { accessTokenClaims } from "../../issuer/exchange/mint.ts";
import { decide, formatRef, type Actor, type Decision, type DenialReason, type DenyingParty, type PolicySet } from "../../policy/index.ts";
import { buildSubject } from "../../policy/subject.ts";
import { namespaceLabelsOf, type ClusterSnapshot } from "../manifests/snapshot.ts";
import type { Expectation, TestActor, TestCase, TestSuite } from "./suite.ts";

/** Placeholder issuers: offline there is no cluster or Tessera issuer, and the engine does not decide on them. */
const OFFLINE_SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc";
const OFFLINE_TESSERA_ISSUER = "https://tessera.invalid";
/** Claims a real token carries per token or per issuer; a suite cannot state them, so they are not compared. */
const UNCOMPARED_CLAIMS = new Set(["iss", "jti", "iat", "nbf", "exp"]);
const DEFAULT_POD_UID = "00000000-0000-0000-0000-000000000000";

/** What the decision was, as a report shows it. */
export interface DecisionSummary {
  readonly allowed: boolean;
  readonly policy?: string;
  readonly audiences?: readonly string[];
  readonly scopes?: readonly string[];
  readonly ttlSeconds?: number;
  readonly claims?: Readonly<Record<string, unknown>>;
  readonly dpopRequiredBy?: readonly string[];
  readonly reason?: DenialReason;
  readonly deniedBy?: DenyingParty;
  readonly message?: string;
}

export interface CaseResult {
  readonly name: string;
  readonly passed: boolean;
  /** Each way the decision differs from the expectation, e.g. "scopes: expected [a], got [a b]". */
  readonly failures: readonly string[];
  readonly got: DecisionSummary;
}

export interface SuiteResult {
  readonly name: string;
  readonly location: string;
  readonly cases: readonly CaseResult[];
  /** Why the suite could not be run (it failed validation); no case ran then. */
  readonly errors: readonly string[];
}

export interface Engine {
  readonly set: PolicySet;
  readonly snapshot: ClusterSnapshot;
}

export function runSuite(suite: TestSuite, engine: Engine, now: Date): SuiteResult {
  return { name: suite.name, location: suite.location, errors: [], cases: suite.cases.map((c, i) => runCase(c, engine, now, i)) };
}

export function runCase(testCase: TestCase, engine: Engine, now: Date, index = 0): CaseResult {
  const decision = decideCase(testCase, engine, now, index);
  const got = summarize(decision, now);
  const failures = compare(testCase.expect, got);
  return { name: testCase.name, passed: failures.length === 0, failures, got };
}

/** The decision the issuer would make for this case's caller and request. */
export function decideCase(testCase: TestCase, engine: Engine, now: Date, index = 0): Decision {
  const { subject: s, request } = testCase;
  const namespace = s.serviceAccount.namespace;
  const labels =
    s.namespaceLabels === undefined ? (engine.snapshot.namespaces.get(namespace) ?? namespaceLabelsOf(namespace)) : namespaceLabelsOf(namespace, s.namespaceLabels);
  const subject = buildSubject({
    serviceAccount: s.serviceAccount,
    namespace: { name: namespace, labels },
    pod: {
      name: s.pod.name ?? `${s.serviceAccount.name}-test`,
      uid: s.pod.uid ?? DEFAULT_POD_UID,
      labels: s.pod.labels ?? {},
      annotations: s.pod.annotations ?? {},
      ...(s.pod.nodeName === undefined ? {} : { nodeName: s.pod.nodeName }),
      ...(s.pod.owner === undefined ? {} : { owner: s.pod.owner }),
    },
    cluster: s.cluster ?? { name: "", environment: "" },
    actors: s.actors.map(actorOf),
  });
  return decide({
    subject,
    request,
    policies: engine.set,
    now,
    id: `test-${index}`,
    namespaceLabels: (name) => (name === namespace ? labels : engine.snapshot.namespaces.get(name)),
  });
}

function actorOf(actor: TestActor): Actor {
  if ("serviceAccount" in actor) {
    const { namespace, name } = actor.serviceAccount;
    return { sub: `${K8S_SERVICE_ACCOUNT_SUBJECT_PREFIX}${namespace}:${name}`, iss: OFFLINE_SERVICE_ACCOUNT_ISSUER, serviceAccount: { namespace, name } };
  }
  return { sub: actor.subject, iss: actor.issuer ?? OFFLINE_TESSERA_ISSUER };
}

export function summarize(decision: Decision, now: Date): DecisionSummary {
  if (!decision.allowed) {
    return {
      allowed: false,
      reason: decision.reason,
      deniedBy: decision.deniedBy,
      message: decision.message,
      ...(decision.policy === undefined ? {} : { policy: formatRef(decision.policy) }),
    };
  }
  const { grant } = decision;
  const claims = Object.fromEntries(
    Object.entries(accessTokenClaims(decision, OFFLINE_TESSERA_ISSUER, now)).filter(([name]) => !UNCOMPARED_CLAIMS.has(name)),
  );
  return {
    allowed: true,
    policy: formatRef(decision.policy),
    audiences: grant.audiences,
    scopes: grant.scopes,
    ttlSeconds: grant.ttlSeconds,
    claims,
    ...(grant.dpopRequiredBy === undefined ? {} : { dpopRequiredBy: grant.dpopRequiredBy }),
  };
}

/** Pure: every difference between what was expected and what was decided; empty when the case passes. */
export function compare(expected: Expectation, got: DecisionSummary): string[] {
  if (expected.outcome === "allowed" && !got.allowed) {
    return [`expected allowed, got denied: ${got.reason ?? "?"} by ${got.deniedBy ?? "?"}: ${got.message ?? ""}`];
  }
  if (expected.outcome === "denied" && got.allowed) {
    return [
      `expected denied (${expected.reason}), got allowed under ${got.policy ?? "?"} with scopes ${list(got.scopes ?? [])}, ttl ${got.ttlSeconds ?? "?"}s`,
    ];
  }
  const failures: string[] = [];
  if (expected.outcome === "allowed") {
    if (expected.scopes !== undefined && !sameSet(expected.scopes, got.scopes ?? [])) {
      failures.push(`scopes: expected ${list(expected.scopes)}, got ${list(got.scopes ?? [])}`);
    }
    if (expected.audiences !== undefined && !sameSet(expected.audiences, got.audiences ?? [])) {
      failures.push(`audiences: expected ${list(expected.audiences)}, got ${list(got.audiences ?? [])}`);
    }
    if (expected.ttlSeconds !== undefined && expected.ttlSeconds !== got.ttlSeconds) {
      failures.push(`ttlSeconds: expected ${expected.ttlSeconds}, got ${got.ttlSeconds ?? "?"}`);
    }
    if (expected.policy !== undefined && expected.policy !== got.policy) {
      failures.push(`policy: expected ${expected.policy}, got ${got.policy ?? "none"}`);
    }
    if (expected.dpopRequired !== undefined && expected.dpopRequired !== (got.dpopRequiredBy !== undefined)) {
      failures.push(
        expected.dpopRequired ? "dpopRequired: expected a DPoP-bound token, got a bearer token" : `dpopRequired: expected a bearer token, got one bound by ${(got.dpopRequiredBy ?? []).join(", ")}`,
      );
    }
    for (const [name, value] of Object.entries(expected.claims ?? {})) {
      const actual = got.claims?.[name];
      if (!containsClaim(value, actual)) {
        failures.push(`claim ${name}: expected ${JSON.stringify(value)}, got ${actual === undefined ? "no such claim" : JSON.stringify(actual)}`);
      }
    }
    return failures;
  }
  const denial = `${got.reason ?? "?"} by ${got.deniedBy ?? "?"}: ${got.message ?? ""}`;
  if (expected.reason !== got.reason) failures.push(`reason: expected ${expected.reason}, got ${denial}`);
  if (expected.deniedBy !== undefined && expected.deniedBy !== got.deniedBy) {
    failures.push(`deniedBy: expected ${expected.deniedBy}, got ${denial}`);
  }
  if (expected.policy !== undefined && expected.policy !== got.policy) {
    failures.push(`policy: expected ${expected.policy}, got ${got.policy ?? "none"}`);
  }
  if (expected.messageIncludes !== undefined && !(got.message ?? "").includes(expected.messageIncludes)) {
    failures.push(`message: expected it to include '${expected.messageIncludes}', got '${got.message ?? ""}'`);
  }
  return failures;
}

/**
 * Does the actual claim value hold what was expected? Objects match when every expected member matches (so a suite
 * may state `act: { sub: ... }` without the actor's issuer); lists and scalars must be equal.
 */
export function containsClaim(expected: unknown, actual: unknown): boolean {
  if (isPlainObject(expected) && isPlainObject(actual)) {
    return Object.entries(expected).every(([key, value]) => Object.hasOwn(actual, key) && containsClaim(value, actual[key]));
  }
  return isDeepStrictEqual(expected, actual);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((x) => right.has(x));
}

function list(values: readonly string[]): string {
  return `[${values.join(" ")}]`;
}
