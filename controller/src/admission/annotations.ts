// Reads and validates the pod annotations that choose audiences, scopes and skipped containers.
import {
  ANNOTATION_AUDIENCES,
  ANNOTATION_SCOPES,
  ANNOTATION_SKIP_CONTAINERS,
  ENV_MAX_AUDIENCES_PER_POD,
  MAX_AUDIENCES_PER_POD,
} from "../../../api/constants.ts";
import type { SidecarTokenSpec } from "../../../api/exchange.ts";
import { AdmissionError } from "./errors.ts";

export interface InjectionRequest {
  /** Audiences in annotation order, without duplicates. */
  readonly audiences: readonly string[];
  /** Scopes requested for every audience, without duplicates. */
  readonly scopes: readonly string[];
  /** The sidecar's ENV_TOKENS: one token per audience. */
  readonly tokens: readonly SidecarTokenSpec[];
  /** Containers that get neither the token volume nor the env. */
  readonly skipContainers: ReadonlySet<string>;
}

const MAX_AUDIENCE_LENGTH = 256;
/** The sidecar accepts token names matching ^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$. */
const MAX_TOKEN_NAME_LENGTH = 63;
/** RFC 6749 section 3.3 scope-token. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
/** RFC 1123 label: what Kubernetes accepts as a container name. */
const CONTAINER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const FORBIDDEN_IN_AUDIENCE = /[\s\x00-\x1F\x7F]/;

function refuse(annotation: string, message: string): never {
  throw new AdmissionError("InvalidAnnotation", `annotation ${annotation}: ${message}`);
}

function splitList(value: string, separator: RegExp): string[] {
  return value
    .split(separator)
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

/** File name for an audience's token: the audience without scheme, other characters than [A-Za-z0-9._-] as "_". */
export function tokenNameForAudience(audience: string): string {
  return audience
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, "")
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/^[^A-Za-z0-9]+|[_.]+$/g, "")
    .slice(0, MAX_TOKEN_NAME_LENGTH);
}

function parseAudiences(raw: string | undefined, tesseraAudience: string, maxAudiences: number): string[] {
  if (raw === undefined) return [];
  const audiences = splitList(raw, /,/);
  if (audiences.length === 0) refuse(ANNOTATION_AUDIENCES, "names no audience; remove it or list audiences separated by commas");
  for (const audience of audiences) {
    if (audience.length > MAX_AUDIENCE_LENGTH) {
      refuse(ANNOTATION_AUDIENCES, `audience "${audience.slice(0, 40)}..." is longer than ${MAX_AUDIENCE_LENGTH} characters`);
    }
    if (FORBIDDEN_IN_AUDIENCE.test(audience)) {
      refuse(ANNOTATION_AUDIENCES, `audience ${JSON.stringify(audience)} contains whitespace or control characters`);
    }
    if (audience === tesseraAudience) {
      refuse(ANNOTATION_AUDIENCES, `audience "${audience}" is Tessera's own audience; name the services the pod calls`);
    }
  }
  const distinct = [...new Set(audiences)];
  // Each audience is a token the sidecar holds and refreshes, and an exchange at every refresh and wake-up.
  if (distinct.length > maxAudiences) {
    refuse(
      ANNOTATION_AUDIENCES,
      `names ${distinct.length} audiences; a pod may ask for at most ${maxAudiences} (${ENV_MAX_AUDIENCES_PER_POD}). ` +
        "Split the workload, or fetch rarely used audiences on demand from the sidecar's endpoint",
    );
  }
  return distinct;
}

function parseScopes(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  const scopes = splitList(raw, /\s+/);
  if (scopes.length === 0) refuse(ANNOTATION_SCOPES, "names no scope; remove it or list scopes separated by spaces");
  for (const scope of scopes) {
    if (!SCOPE_TOKEN.test(scope)) {
      refuse(ANNOTATION_SCOPES, `scope ${JSON.stringify(scope)} is not a valid OAuth scope (RFC 6749 section 3.3)`);
    }
  }
  return [...new Set(scopes)];
}

function parseSkip(raw: string | undefined, containerNames: ReadonlySet<string>): Set<string> {
  if (raw === undefined) return new Set();
  const names = splitList(raw, /,/);
  if (names.length === 0) refuse(ANNOTATION_SKIP_CONTAINERS, "names no container; remove it or list container names separated by commas");
  for (const name of names) {
    if (name.length > 63 || !CONTAINER_NAME.test(name)) {
      refuse(ANNOTATION_SKIP_CONTAINERS, `${JSON.stringify(name)} is not a valid container name`);
    }
    if (!containerNames.has(name)) {
      refuse(ANNOTATION_SKIP_CONTAINERS, `"${name}" names no container of this pod (it has: ${[...containerNames].join(", ")})`);
    }
  }
  return new Set(names);
}

function tokensFor(audiences: readonly string[], scopes: readonly string[]): SidecarTokenSpec[] {
  const owners = new Map<string, string>();
  return audiences.map((audience) => {
    const name = tokenNameForAudience(audience);
    if (name === "") refuse(ANNOTATION_AUDIENCES, `audience "${audience}" gives no usable token file name`);
    const other = owners.get(name);
    if (other !== undefined) {
      refuse(ANNOTATION_AUDIENCES, `audiences "${other}" and "${audience}" would share the token file "${name}"`);
    }
    owners.set(name, audience);
    return scopes.length === 0 ? { name, audience } : { name, audience, scopes };
  });
}

/**
 * Validates the pod's Tessera annotations; throws AdmissionError InvalidAnnotation with a message naming the
 * annotation at the first bad value. `maxAudiences` is capped at MAX_AUDIENCES_PER_POD, what the sidecar accepts.
 */
export function parseInjectionAnnotations(
  annotations: Readonly<Record<string, string>>,
  containerNames: ReadonlySet<string>,
  tesseraAudience: string,
  maxAudiences: number = MAX_AUDIENCES_PER_POD,
): InjectionRequest {
  const audiences = parseAudiences(annotations[ANNOTATION_AUDIENCES], tesseraAudience, Math.min(maxAudiences, MAX_AUDIENCES_PER_POD));
  const scopes = parseScopes(annotations[ANNOTATION_SCOPES]);
  const skipContainers = parseSkip(annotations[ANNOTATION_SKIP_CONTAINERS], containerNames);
  return { audiences, scopes, tokens: tokensFor(audiences, scopes), skipContainers };
}
