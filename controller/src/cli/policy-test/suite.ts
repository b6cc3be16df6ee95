// The TokenPolicyTest file format: parsed and validated into typed suites, every problem named by its field path.
//
// A suite is a file read by `tessera test`, never a resource applied to a cluster (no CRD defines the kind):
//
//   apiVersion: tessera.dev/v1alpha1
//   kind: TokenPolicyTest
//   metadata: { name: internal-api }
//   spec:
//     cluster: { name: prod-eu, environment: production }      # optional default for every case
//     extraManifests: [ ... ]                                   # optional: resources added for this suite only
//     cases:
//       - name: checkout reads payments by default              # unique within the suite
//         subject: { serviceAccount: { namespace: checkout, name: checkout-api }, pod: { labels: { app: checkout-api } } }
//         request: { audiences: [https://payments.internal.example] }
//         expect: { allowed: { scopes: [payments.read], ttlSeconds: 900, claims: { tenant: acme } } }
//       - name: the owner refuses refunds
//         ...
//         expect: { denied: { reason: AudienceOwnerDenied, deniedBy: owner } }

import {
  API_GROUP_VERSION,
  KIND_CLUSTER_TOKEN_POLICY,
  KIND_TOKEN_AUDIENCE,
  KIND_TOKEN_POLICY,
  KIND_TOKEN_POLICY_TEST,
} from "../../../../api/constants.ts";
import type { DenialReason, DenyingParty, JsonValue } from "../../policy/index.ts";
import { locationOf, type LoadedDocument } from "../manifests/documents.ts";
import { FieldReader } from "./fields.ts";

export type Labels = Readonly<Record<string, string>>;

/** An actor in the delegation chain: a service account, or the holder of a Tessera token with this `sub`. */
export type TestActor =
  | { readonly serviceAccount: { readonly namespace: string; readonly name: string } }
  | { readonly subject: string; readonly issuer?: string };

export interface TestSubject {
  readonly serviceAccount: { readonly namespace: string; readonly name: string };
  /** Replaces the labels of the namespace found among the manifests (kubernetes.io/metadata.name is always set). */
  readonly namespaceLabels?: Labels;
  readonly pod: {
    readonly name?: string;
    readonly uid?: string;
    readonly labels?: Labels;
    readonly annotations?: Labels;
    readonly nodeName?: string;
    readonly owner?: { readonly apiVersion: string; readonly kind: string; readonly name: string };
  };
  readonly cluster?: { readonly name: string; readonly environment: string };
  /** Current actor first, as in the engine's Subject. */
  readonly actors: readonly TestActor[];
}

export type Expectation =
  | {
      readonly outcome: "allowed";
      readonly scopes?: readonly string[];
      readonly audiences?: readonly string[];
      readonly ttlSeconds?: number;
      /** Claims the token must carry with these values; others may be present too. */
      readonly claims?: Readonly<Record<string, JsonValue>>;
      /** The policy granted under, as Kind/name or Kind/namespace/name. */
      readonly policy?: string;
      readonly dpopRequired?: boolean;
    }
  | {
      readonly outcome: "denied";
      readonly reason: DenialReason;
      readonly deniedBy?: DenyingParty;
      readonly policy?: string;
      /** A piece of the denial's message. */
      readonly messageIncludes?: string;
    };

export interface TestCase {
  readonly name: string;
  readonly subject: TestSubject;
  readonly request: { readonly audiences: readonly string[]; readonly scopes: readonly string[] };
  readonly expect: Expectation;
}

export interface TestSuite {
  readonly name: string;
  /** Where it was read from (file, and #index when not the first document). */
  readonly location: string;
  /** Resources this suite adds to the manifests (e.g. the policy another team might write); values as in a manifest. */
  readonly extraManifests: readonly unknown[];
  readonly cases: readonly TestCase[];
}

export type SuiteParse =
  | { readonly ok: true; readonly suite: TestSuite }
  | { readonly ok: false; readonly name: string; readonly location: string; readonly errors: readonly string[] };

/** Every reason the engine denies with; a Record so a new reason fails to compile until it is listed here. */
const DENIAL_REASONS: Readonly<Record<DenialReason, true>> = {
  NoMatchingPolicy: true,
  AudienceNotAllowed: true,
  ScopeNotAllowed: true,
  ConditionFailed: true,
  PolicyConflict: true,
  PolicyNotAccepted: true,
  DelegationNotAllowed: true,
  DelegationChainTooLong: true,
  GuardrailViolation: true,
  ClaimEvaluationFailed: true,
  AudienceUnowned: true,
  AudienceOwnerDenied: true,
  CostLimitExceeded: true,
};
/** What a suite may add to the manifests: whatever the engine reads. */
const EXTRA_KINDS: readonly string[] = [KIND_TOKEN_POLICY, KIND_CLUSTER_TOKEN_POLICY, KIND_TOKEN_AUDIENCE, "Namespace", "ServiceAccount"];
const PARTIES: Readonly<Record<DenyingParty, true>> = { caller: true, owner: true, operator: true };

/** Is this document a test suite (by kind), whatever its shape? */
export function isSuiteDocument(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === KIND_TOKEN_POLICY_TEST;
}

/** Pure: one suite document into a typed suite, or every problem found in it. */
export function parseSuite(doc: LoadedDocument): SuiteParse {
  const location = locationOf(doc);
  const r = new FieldReader();
  const root = r.object(doc.value, "", ["apiVersion", "kind", "metadata", "spec"], ["apiVersion", "kind", "metadata", "spec"]);
  const meta = r.object(root?.["metadata"], "metadata", ["name", "labels", "annotations"], ["name"]);
  const name = r.string(meta?.["name"], "metadata.name") ?? "?";
  if (root?.["apiVersion"] !== undefined && root["apiVersion"] !== API_GROUP_VERSION) {
    r.fail("apiVersion", `must be ${API_GROUP_VERSION}`);
  }
  const spec = r.object(root?.["spec"], "spec", ["description", "cluster", "extraManifests", "cases"], ["cases"]);
  const extraManifests: unknown[] = [];
  if (spec?.["extraManifests"] !== undefined) {
    r.list(spec["extraManifests"], "spec.extraManifests")?.forEach((m, i) => {
      const kind = (m as { kind?: unknown } | null)?.kind;
      if (typeof kind !== "string" || !EXTRA_KINDS.includes(kind)) {
        r.fail(`spec.extraManifests[${i}].kind`, `must be one of ${EXTRA_KINDS.join(", ")}`);
      } else {
        extraManifests.push(m);
      }
    });
  }
  const defaultCluster = spec?.["cluster"] === undefined ? undefined : cluster(r, spec["cluster"], "spec.cluster");
  const cases: TestCase[] = [];
  const rawCases = spec === undefined ? undefined : r.list(spec["cases"], "spec.cases");
  if (rawCases !== undefined && rawCases.length === 0) r.fail("spec.cases", "must name at least one case");
  const seen = new Set<string>();
  rawCases?.forEach((raw, i) => {
    const parsed = testCase(r, raw, `spec.cases[${i}]`, defaultCluster);
    if (parsed === undefined) return;
    if (seen.has(parsed.name)) r.fail(`spec.cases[${i}].name`, `'${parsed.name}' names an earlier case too`);
    seen.add(parsed.name);
    cases.push(parsed);
  });
  // Paths start at "" for the document itself, which would print as ".spec" or ": ..."; name it properly.
  const errors = r.errors.map((e) => (e.startsWith(": ") ? `document${e}` : e.replace(/^\./, "")));
  if (errors.length > 0) return { ok: false, name, location, errors };
  return { ok: true, suite: { name, location, extraManifests, cases } };
}

function testCase(
  r: FieldReader,
  raw: unknown,
  path: string,
  defaultCluster: TestSubject["cluster"],
): TestCase | undefined {
  const before = r.errors.length;
  const c = r.object(raw, path, ["name", "description", "subject", "request", "expect"], ["name", "subject", "request", "expect"]);
  if (c === undefined) return undefined;
  const name = r.string(c["name"], `${path}.name`);
  const subject = c["subject"] === undefined ? undefined : testSubject(r, c["subject"], `${path}.subject`, defaultCluster);
  const request = c["request"] === undefined ? undefined : testRequest(r, c["request"], `${path}.request`);
  const expect = c["expect"] === undefined ? undefined : expectation(r, c["expect"], `${path}.expect`);
  if (r.errors.length > before || name === undefined || subject === undefined || request === undefined || expect === undefined) {
    return undefined;
  }
  return { name, subject, request, expect };
}

function testSubject(r: FieldReader, raw: unknown, path: string, defaultCluster: TestSubject["cluster"]): TestSubject | undefined {
  const s = r.object(raw, path, ["serviceAccount", "namespaceLabels", "pod", "cluster", "actors"], ["serviceAccount"]);
  if (s === undefined) return undefined;
  const serviceAccount = accountRef(r, s["serviceAccount"], `${path}.serviceAccount`);
  const namespaceLabels = s["namespaceLabels"] === undefined ? undefined : r.stringMap(s["namespaceLabels"], `${path}.namespaceLabels`);
  const pod = s["pod"] === undefined ? {} : testPod(r, s["pod"], `${path}.pod`);
  const ownCluster = s["cluster"] === undefined ? undefined : cluster(r, s["cluster"], `${path}.cluster`);
  const actors: TestActor[] = [];
  if (s["actors"] !== undefined) {
    r.list(s["actors"], `${path}.actors`)?.forEach((a, i) => {
      const actor = testActor(r, a, `${path}.actors[${i}]`);
      if (actor !== undefined) actors.push(actor);
    });
  }
  if (serviceAccount === undefined || pod === undefined) return undefined;
  const chosenCluster = ownCluster ?? defaultCluster;
  return {
    serviceAccount,
    ...(namespaceLabels === undefined ? {} : { namespaceLabels }),
    pod,
    ...(chosenCluster === undefined ? {} : { cluster: chosenCluster }),
    actors,
  };
}

function testPod(r: FieldReader, raw: unknown, path: string): TestSubject["pod"] | undefined {
  const p = r.object(raw, path, ["name", "uid", "labels", "annotations", "nodeName", "owner"]);
  if (p === undefined) return undefined;
  const name = r.optionalString(p["name"], `${path}.name`);
  const uid = r.optionalString(p["uid"], `${path}.uid`);
  const nodeName = r.optionalString(p["nodeName"], `${path}.nodeName`);
  const labels = p["labels"] === undefined ? undefined : r.stringMap(p["labels"], `${path}.labels`);
  const annotations = p["annotations"] === undefined ? undefined : r.stringMap(p["annotations"], `${path}.annotations`);
  let owner: { apiVersion: string; kind: string; name: string } | undefined;
  if (p["owner"] !== undefined) {
    const o = r.object(p["owner"], `${path}.owner`, ["apiVersion", "kind", "name"], ["apiVersion", "kind", "name"]);
    const apiVersion = r.string(o?.["apiVersion"], `${path}.owner.apiVersion`);
    const kind = r.string(o?.["kind"], `${path}.owner.kind`);
    const ownerName = r.string(o?.["name"], `${path}.owner.name`);
    if (apiVersion !== undefined && kind !== undefined && ownerName !== undefined) owner = { apiVersion, kind, name: ownerName };
  }
  return {
    ...(name === undefined ? {} : { name }),
    ...(uid === undefined ? {} : { uid }),
    ...(labels === undefined ? {} : { labels }),
    ...(annotations === undefined ? {} : { annotations }),
    ...(nodeName === undefined ? {} : { nodeName }),
    ...(owner === undefined ? {} : { owner }),
  };
}

function testActor(r: FieldReader, raw: unknown, path: string): TestActor | undefined {
  const a = r.object(raw, path, ["serviceAccount", "subject", "issuer"]);
  if (a === undefined) return undefined;
  if ((a["serviceAccount"] === undefined) === (a["subject"] === undefined)) {
    r.fail(path, "set exactly one of serviceAccount and subject");
    return undefined;
  }
  if (a["serviceAccount"] !== undefined) {
    if (a["issuer"] !== undefined) {
      r.fail(`${path}.issuer`, "only with subject (a service account's issuer is the cluster's)");
      return undefined;
    }
    const serviceAccount = accountRef(r, a["serviceAccount"], `${path}.serviceAccount`);
    return serviceAccount === undefined ? undefined : { serviceAccount };
  }
  const subject = r.string(a["subject"], `${path}.subject`);
  const issuer = r.optionalString(a["issuer"], `${path}.issuer`);
  return subject === undefined ? undefined : { subject, ...(issuer === undefined ? {} : { issuer }) };
}

function testRequest(r: FieldReader, raw: unknown, path: string): TestCase["request"] | undefined {
  const q = r.object(raw, path, ["audiences", "scopes"], ["audiences"]);
  const audiences = q?.["audiences"] === undefined ? undefined : r.stringList(q["audiences"], `${path}.audiences`);
  if (audiences?.length === 0) r.fail(`${path}.audiences`, "must name at least one audience");
  const scopes = q?.["scopes"] === undefined ? [] : r.stringList(q["scopes"], `${path}.scopes`);
  if (audiences === undefined || audiences.length === 0 || scopes === undefined) return undefined;
  return { audiences, scopes };
}

function expectation(r: FieldReader, raw: unknown, path: string): Expectation | undefined {
  const e = r.object(raw, path, ["allowed", "denied"]);
  if (e === undefined) return undefined;
  if ((e["allowed"] === undefined) === (e["denied"] === undefined)) {
    r.fail(path, "set exactly one of allowed and denied (what the decision must be)");
    return undefined;
  }
  if (e["allowed"] !== undefined) {
    const p = `${path}.allowed`;
    // `allowed: {}` asserts only that a token is granted.
    const a = r.object(e["allowed"] ?? {}, p, ["scopes", "audiences", "ttlSeconds", "claims", "policy", "dpopRequired"]);
    if (a === undefined) return undefined;
    const scopes = a["scopes"] === undefined ? undefined : r.stringList(a["scopes"], `${p}.scopes`);
    const audiences = a["audiences"] === undefined ? undefined : r.stringList(a["audiences"], `${p}.audiences`);
    const ttlSeconds = a["ttlSeconds"] === undefined ? undefined : r.integer(a["ttlSeconds"], `${p}.ttlSeconds`);
    const claims = a["claims"] === undefined ? undefined : claimMap(r, a["claims"], `${p}.claims`);
    const policy = r.optionalString(a["policy"], `${p}.policy`);
    const dpopRequired = a["dpopRequired"] === undefined ? undefined : r.boolean(a["dpopRequired"], `${p}.dpopRequired`);
    return {
      outcome: "allowed",
      ...(scopes === undefined ? {} : { scopes }),
      ...(audiences === undefined ? {} : { audiences }),
      ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
      ...(claims === undefined ? {} : { claims }),
      ...(policy === undefined ? {} : { policy }),
      ...(dpopRequired === undefined ? {} : { dpopRequired }),
    };
  }
  const p = `${path}.denied`;
  const d = r.object(e["denied"], p, ["reason", "deniedBy", "policy", "messageIncludes"], ["reason"]);
  if (d === undefined) return undefined;
  const reason = r.optionalString(d["reason"], `${p}.reason`);
  if (reason !== undefined && !Object.hasOwn(DENIAL_REASONS, reason)) {
    r.fail(`${p}.reason`, `'${reason}' is not a denial reason (one of ${Object.keys(DENIAL_REASONS).join(", ")})`);
    return undefined;
  }
  const deniedBy = r.optionalString(d["deniedBy"], `${p}.deniedBy`);
  if (deniedBy !== undefined && !Object.hasOwn(PARTIES, deniedBy)) {
    r.fail(`${p}.deniedBy`, `must be one of ${Object.keys(PARTIES).join(", ")}`);
    return undefined;
  }
  const policy = r.optionalString(d["policy"], `${p}.policy`);
  const messageIncludes = r.optionalString(d["messageIncludes"], `${p}.messageIncludes`);
  if (reason === undefined) return undefined;
  return {
    outcome: "denied",
    reason: reason as DenialReason,
    ...(deniedBy === undefined ? {} : { deniedBy: deniedBy as DenyingParty }),
    ...(policy === undefined ? {} : { policy }),
    ...(messageIncludes === undefined ? {} : { messageIncludes }),
  };
}

function accountRef(r: FieldReader, raw: unknown, path: string): { namespace: string; name: string } | undefined {
  const o = r.object(raw, path, ["namespace", "name"], ["namespace", "name"]);
  const namespace = r.string(o?.["namespace"], `${path}.namespace`);
  const name = r.string(o?.["name"], `${path}.name`);
  return namespace === undefined || name === undefined ? undefined : { namespace, name };
}

function cluster(r: FieldReader, raw: unknown, path: string): { name: string; environment: string } | undefined {
  const o = r.object(raw, path, ["name", "environment"]);
  if (o === undefined) return undefined;
  const name = o["name"] === undefined ? "" : r.string(o["name"], `${path}.name`);
  const environment = o["environment"] === undefined ? "" : r.string(o["environment"], `${path}.environment`);
  return name === undefined || environment === undefined ? undefined : { name, environment };
}

function claimMap(r: FieldReader, raw: unknown, path: string): Record<string, JsonValue> | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    r.fail(path, "must be a map of claim names to values");
    return undefined;
  }
  const out: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!isJson(value)) r.fail(`${path}.${key}`, "must be a JSON value");
    else out[key] = value;
  }
  return out;
}

function isJson(value: unknown): value is JsonValue {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJson);
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) return Object.values(value).every(isJson);
  return false;
}
