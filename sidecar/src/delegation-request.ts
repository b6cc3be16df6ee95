// Pure: the delegation requests of the local API, checked and bounded: GET /v1/delegation's query and POST /v1/act's
// body, or the reason each was refused (for a 400). The issuer judges them again; this only keeps garbage local.
import { K8S_SERVICE_ACCOUNT_SUBJECT_PREFIX } from "../../api/constants.ts";

/** Ask for a grant for `actor` to get tokens for `audience` with at most `scopes`. */
export interface DelegationRequest {
  readonly actor: string;
  readonly audience: string;
  readonly scopes: readonly string[];
}

/** Exchange `grant` (received from the delegating workload) for a token for `audience`, acting as this pod. */
export interface ActRequest {
  readonly grant: string;
  readonly audience: string;
  readonly scopes: readonly string[];
}

/** Largest body of POST /v1/act: a grant (at most 16 KiB), an audience and scopes. */
export const MAX_ACT_BODY_BYTES = 24 * 1024;

const ACTOR = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?:[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const AUDIENCE = /^[\x21-\x7e]{1,512}$/;
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_GRANT_CHARS = 16 * 1024;
const MAX_SCOPES = 64;

function parseScopes(value: string | undefined): readonly string[] | string {
  const scopes = (value ?? "").split(" ").filter((s) => s !== "");
  if (scopes.length > MAX_SCOPES || !scopes.every((s) => SCOPE_TOKEN.test(s))) return `scope is up to ${MAX_SCOPES} OAuth scope tokens separated by spaces`;
  return [...new Set(scopes)];
}

export function parseDelegationQuery(params: URLSearchParams): DelegationRequest | string {
  const actors = params.getAll("actor");
  const audiences = params.getAll("audience");
  const scopeValues = params.getAll("scope");
  const [actor] = actors;
  const [audience] = audiences;
  if (actors.length !== 1 || actor === undefined || !actor.startsWith(K8S_SERVICE_ACCOUNT_SUBJECT_PREFIX) || !ACTOR.test(actor.slice(K8S_SERVICE_ACCOUNT_SUBJECT_PREFIX.length))) {
    return `name one actor as ${K8S_SERVICE_ACCOUNT_SUBJECT_PREFIX}NAMESPACE:NAME`;
  }
  if (audiences.length !== 1 || audience === undefined || !AUDIENCE.test(audience)) return "name one audience the actor may get tokens for";
  const scopes = parseScopes(scopeValues.join(" "));
  if (typeof scopes === "string") return scopes;
  return { actor, audience, scopes };
}

export function parseActRequest(body: string): ActRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return 'the body must be JSON: {"grant": "...", "audience": "https://api.example", "scope": "read"}';
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "the body must be a JSON object";
  const { grant, audience, scope } = value as Record<string, unknown>;
  if (typeof grant !== "string" || grant.length > MAX_GRANT_CHARS || !COMPACT_JWS.test(grant)) return "grant must be the delegation grant you received";
  if (typeof audience !== "string" || !AUDIENCE.test(audience)) return "audience must name the API the token is for";
  if (scope !== undefined && typeof scope !== "string") return "scope must be a string of space-separated scopes";
  const scopes = parseScopes(scope);
  if (typeof scopes === "string") return scopes;
  return { grant, audience, scopes };
}
