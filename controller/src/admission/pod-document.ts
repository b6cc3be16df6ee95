// The parts of a Pod the injector reads and writes, and a check that decoded JSON really has that shape.
import type { Container, Volume } from "./pod-types.ts";
import { AdmissionError } from "./errors.ts";

export interface PodMetadataDocument {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; controller?: boolean }[];
  [key: string]: unknown;
}

export interface PodSpecDocument {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  hostNetwork?: boolean;
  serviceAccountName?: string;
  nodeName?: string;
  [key: string]: unknown;
}

/** A decoded Pod; fields the injector does not know are kept untouched. */
export interface PodDocument {
  metadata?: PodMetadataDocument;
  spec: PodSpecDocument;
  [key: string]: unknown;
}

type Check = (value: unknown, path: string) => string | undefined;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const stringMap: Check = (value, path) => {
  if (value === undefined) return undefined;
  if (!isRecord(value)) return `${path} must be an object`;
  const bad = Object.entries(value).find(([, v]) => typeof v !== "string");
  return bad === undefined ? undefined : `${path}.${bad[0]} must be a string`;
};

/** A list (when present) of objects each carrying the named string fields. */
function namedList(...fields: string[]): Check {
  return (value, path) => {
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) return `${path} must be a list`;
    for (const [i, item] of (value as unknown[]).entries()) {
      if (!isRecord(item)) return `${path}[${i}] must be an object`;
      for (const field of fields) if (typeof item[field] !== "string") return `${path}[${i}].${field} must be a string`;
    }
    return undefined;
  };
}

const containers: Check = (value, path) => {
  const listProblem = namedList("name")(value, path);
  if (listProblem !== undefined || value === undefined) return listProblem;
  for (const [i, item] of (value as Record<string, unknown>[]).entries()) {
    const problem =
      namedList("name")(item["env"], `${path}[${i}].env`) ??
      namedList("name", "mountPath")(item["volumeMounts"], `${path}[${i}].volumeMounts`);
    if (problem !== undefined) return problem;
  }
  return undefined;
};

function problemOf(value: unknown): string | undefined {
  if (!isRecord(value)) return "the object is not a Pod";
  const metadata = value["metadata"];
  if (metadata !== undefined) {
    if (!isRecord(metadata)) return "metadata must be an object";
    const problem =
      stringMap(metadata["labels"], "metadata.labels") ??
      stringMap(metadata["annotations"], "metadata.annotations") ??
      namedList("apiVersion", "kind", "name")(metadata["ownerReferences"], "metadata.ownerReferences");
    if (problem !== undefined) return problem;
  }
  const spec = value["spec"];
  if (!isRecord(spec)) return "spec must be an object";
  if (!Array.isArray(spec["containers"]) || spec["containers"].length === 0) return "spec.containers must be a non-empty list";
  if (spec["hostNetwork"] !== undefined && typeof spec["hostNetwork"] !== "boolean") return "spec.hostNetwork must be a boolean";
  return (
    containers(spec["containers"], "spec.containers") ??
    containers(spec["initContainers"], "spec.initContainers") ??
    namedList("name")(spec["volumes"], "spec.volumes")
  );
}

/** True when `value` has every field the injector touches in the expected shape. */
export function isPodDocument(value: unknown): value is PodDocument {
  return problemOf(value) === undefined;
}

/** Returns `value` as a PodDocument, or throws AdmissionError InvalidPod naming the first field out of shape. */
export function parsePodDocument(value: unknown): PodDocument {
  const problem = problemOf(value);
  if (problem !== undefined || !isPodDocument(value)) {
    throw new AdmissionError("InvalidPod", `the pod cannot be injected: ${problem ?? "unknown shape"}`);
  }
  return value;
}
