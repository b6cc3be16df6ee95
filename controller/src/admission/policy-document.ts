// A checked view of a decoded TokenPolicy / ClusterTokenPolicy: the apiserver has applied the CRD schema
// before validating webhooks run, so this re-checks only the fields admission itself reads.
import type { AnyTokenPolicy } from "../../../api/token-policy.ts";
import {
  API_GROUP_VERSION,
  KIND_CLUSTER_TOKEN_POLICY,
  KIND_TOKEN_POLICY,
} from "../../../api/constants.ts";
import { AdmissionError } from "./errors.ts";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringList(value: unknown): boolean {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

function problemOf(value: unknown): string | undefined {
  if (!isRecord(value)) return "the object is not a policy";
  if (value["apiVersion"] !== API_GROUP_VERSION) return `apiVersion must be ${API_GROUP_VERSION}`;
  const kind = value["kind"];
  if (kind !== KIND_TOKEN_POLICY && kind !== KIND_CLUSTER_TOKEN_POLICY) return "kind must be TokenPolicy or ClusterTokenPolicy";
  const metadata = value["metadata"];
  if (!isRecord(metadata) || typeof metadata["name"] !== "string") return "metadata.name must be a string";
  const spec = value["spec"];
  if (!isRecord(spec)) return "spec must be an object";
  if (spec["owner"] !== undefined && !isRecord(spec["owner"])) return "spec.owner must be an object";
  if (spec["audiences"] !== undefined && !isStringList(spec["audiences"])) return "spec.audiences must be a list of strings";
  if (kind === KIND_TOKEN_POLICY && !isStringList(spec["audiences"])) return "spec.audiences must be a list of strings";
  if (spec["priority"] !== undefined && typeof spec["priority"] !== "number") return "spec.priority must be a number";
  const subjects = spec["subjects"];
  if (kind === KIND_TOKEN_POLICY && !isRecord(subjects)) return "spec.subjects must be an object";
  if (subjects !== undefined) {
    if (!isRecord(subjects)) return "spec.subjects must be an object";
    if (subjects["serviceAccounts"] !== undefined && !isStringList(subjects["serviceAccounts"])) {
      return "spec.subjects.serviceAccounts must be a list of strings";
    }
    for (const key of ["podSelector", "namespaceSelector"]) {
      const selector = subjects[key];
      if (selector !== undefined && !isRecord(selector)) return `spec.subjects.${key} must be an object`;
    }
  }
  return undefined;
}

function isPolicy(value: unknown): value is AnyTokenPolicy {
  return problemOf(value) === undefined;
}

/** Returns the policy, or throws AdmissionError InvalidPolicy naming the first field out of shape. */
export function parsePolicyDocument(value: unknown): AnyTokenPolicy {
  const problem = problemOf(value);
  if (problem !== undefined || !isPolicy(value)) throw new AdmissionError("InvalidPolicy", problem ?? "unknown shape");
  return value;
}

/** "TokenPolicy shop/payments" or "ClusterTokenPolicy baseline": how messages name a policy. */
export function policyName(policy: AnyTokenPolicy): string {
  return policy.kind === KIND_TOKEN_POLICY
    ? `${policy.kind} ${policy.metadata.namespace ?? ""}/${policy.metadata.name}`
    : `${policy.kind} ${policy.metadata.name}`;
}
