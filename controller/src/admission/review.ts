// AdmissionReview v1: a checked parse of what the apiserver sends, and the response it expects back.
import { AdmissionError } from "./errors.ts";
import type { Json, PatchOperation } from "./json-patch.ts";

export const ADMISSION_REVIEW_API_VERSION = "admission.k8s.io/v1";
export const ADMISSION_REVIEW_KIND = "AdmissionReview";

export type Operation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";
const OPERATIONS: readonly Operation[] = ["CREATE", "UPDATE", "DELETE", "CONNECT"];

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

/** The fields of AdmissionRequest Tessera reads; everything else the apiserver sends is ignored. */
export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: GroupVersionKind;
  readonly operation: Operation;
  readonly namespace?: string;
  readonly name?: string;
  /** The object as it will be stored (absent on DELETE). */
  readonly object?: Json;
  /** The stored object before an UPDATE or DELETE. */
  readonly oldObject?: Json;
  readonly dryRun: boolean;
  readonly username?: string;
}

/** What a webhook decided about one request. */
export type AdmissionOutcome =
  | { readonly allowed: true; readonly patch?: readonly PatchOperation[]; readonly warnings?: readonly string[] }
  | { readonly allowed: false; readonly code: number; readonly reason: string; readonly message: string; readonly warnings?: readonly string[] };

export interface AdmissionReviewResponse {
  readonly apiVersion: typeof ADMISSION_REVIEW_API_VERSION;
  readonly kind: typeof ADMISSION_REVIEW_KIND;
  readonly response: {
    readonly uid: string;
    readonly allowed: boolean;
    readonly status?: { readonly code: number; readonly reason: string; readonly message: string };
    readonly patchType?: "JSONPatch";
    readonly patch?: string;
    readonly warnings?: readonly string[];
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isJson(value: unknown): value is Json {
  // Decoded by JSON.parse, so any value reached here is JSON; the guard only rules out undefined.
  return value !== undefined;
}

function invalid(message: string): never {
  throw new AdmissionError("InvalidReview", `invalid AdmissionReview: ${message}`);
}

function optionalString(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") invalid(`request.${key} must be a string`);
  return value;
}

/** Parses a decoded request body; throws AdmissionError InvalidReview naming the first bad field. */
export function parseAdmissionReview(body: unknown): AdmissionRequest {
  if (!isRecord(body)) invalid("body is not a JSON object");
  if (body["apiVersion"] !== ADMISSION_REVIEW_API_VERSION) invalid(`apiVersion must be ${ADMISSION_REVIEW_API_VERSION}`);
  if (body["kind"] !== ADMISSION_REVIEW_KIND) invalid(`kind must be ${ADMISSION_REVIEW_KIND}`);
  const request = body["request"];
  if (!isRecord(request)) invalid("request is missing");
  const uid = request["uid"];
  if (typeof uid !== "string" || uid === "") invalid("request.uid must be a non-empty string");
  const kind = request["kind"];
  if (!isRecord(kind) || typeof kind["group"] !== "string" || typeof kind["version"] !== "string" || typeof kind["kind"] !== "string") {
    invalid("request.kind must carry group, version and kind");
  }
  const operation = OPERATIONS.find((op) => op === request["operation"]);
  if (operation === undefined) invalid("request.operation must be CREATE, UPDATE, DELETE or CONNECT");
  const dryRun = request["dryRun"];
  if (dryRun !== undefined && typeof dryRun !== "boolean") invalid("request.dryRun must be a boolean");
  const userInfo = request["userInfo"];
  const username = isRecord(userInfo) && typeof userInfo["username"] === "string" ? userInfo["username"] : undefined;
  const namespace = optionalString(request, "namespace");
  const name = optionalString(request, "name");
  const object = request["object"];
  const oldObject = request["oldObject"];
  return {
    uid,
    kind: { group: kind["group"], version: kind["version"], kind: kind["kind"] },
    operation,
    dryRun: dryRun === true,
    ...(namespace === undefined ? {} : { namespace }),
    ...(name === undefined ? {} : { name }),
    ...(object !== null && isJson(object) ? { object } : {}),
    ...(oldObject !== null && isJson(oldObject) ? { oldObject } : {}),
    ...(username === undefined ? {} : { username }),
  };
}

const MAX_WARNING_LENGTH = 256;
const MAX_WARNINGS = 10;

/** The apiserver turns warnings into HTTP Warning headers: one line each, printable, short. */
export function sanitizeWarnings(warnings: readonly string[]): string[] {
  return warnings
    .map((w) => w.replace(/[^\x20-\x7E]+/g, " ").trim())
    .filter((w) => w !== "")
    .map((w) => (w.length > MAX_WARNING_LENGTH ? `${w.slice(0, MAX_WARNING_LENGTH - 3)}...` : w))
    .slice(0, MAX_WARNINGS);
}

export function admissionResponse(uid: string, outcome: AdmissionOutcome): AdmissionReviewResponse {
  const warnings = sanitizeWarnings(outcome.warnings ?? []);
  const withWarnings = warnings.length === 0 ? {} : { warnings };
  if (!outcome.allowed) {
    return {
      apiVersion: ADMISSION_REVIEW_API_VERSION,
      kind: ADMISSION_REVIEW_KIND,
      response: {
        uid,
        allowed: false,
        status: { code: outcome.code, reason: outcome.reason, message: outcome.message },
        ...withWarnings,
      },
    };
  }
  const patch =
    outcome.patch === undefined || outcome.patch.length === 0
      ? {}
      : { patchType: "JSONPatch" as const, patch: Buffer.from(JSON.stringify(outcome.patch)).toString("base64") };
  return {
    apiVersion: ADMISSION_REVIEW_API_VERSION,
    kind: ADMISSION_REVIEW_KIND,
    response: { uid, allowed: true, ...patch, ...withWarnings },
  };
}

/** Maps an admission error to a denial; the apiserver shows `message` to the person who ran kubectl. */
export function denial(error: AdmissionError, warnings?: readonly string[]): AdmissionOutcome {
  const code = error.code === "InvalidReview" ? 400 : error.code === "InvalidCertificate" ? 500 : 403;
  return { allowed: false, code, reason: error.code, message: error.message, ...(warnings === undefined ? {} : { warnings }) };
}
