// Pure DPoP (RFC 9449) rules shared by the issuer, the sidecar and the verifier kit: header and claim checks, the key
// thumbprint and the access-token hash. Signatures are checked by each caller with its own JWS code.
import { createHash } from "node:crypto";
import { DPOP_PROOF_TYP, DPOP_SIGNING_ALGORITHMS } from "./constants.ts";

export type DpopAlgorithm = (typeof DPOP_SIGNING_ALGORITHMS)[number];

/** A proof's public key, exactly the members RFC 7638 hashes for its type. */
export type DpopJwk =
  | { readonly kty: "EC"; readonly crv: "P-256"; readonly x: string; readonly y: string }
  | { readonly kty: "OKP"; readonly crv: "Ed25519"; readonly x: string };

/** Why a proof is refused; callers map each to their wire error. */
export type DpopProofProblem =
  | "Malformed"
  | "TypeInvalid"
  | "AlgorithmNotAllowed"
  | "KeyInvalid"
  | "MethodMismatch"
  | "UrlMismatch"
  | "Stale"
  | "NonceRequired"
  | "AccessTokenHashMismatch";

export class DpopProofError extends Error {
  readonly problem: DpopProofProblem;
  constructor(problem: DpopProofProblem, message: string) {
    super(message);
    this.name = "DpopProofError";
    this.problem = problem;
  }
}

/** Longest proof looked at: a header with a P-256 key and a few short claims is well under 1 KiB. */
export const MAX_PROOF_CHARS = 4096;
/** Longest jti accepted; a random id needs at most 64 characters. */
export const MAX_JTI_CHARS = 256;

const B64URL_32_BYTES = /^[A-Za-z0-9_-]{43}$/;
const ALGORITHMS: ReadonlySet<string> = new Set(DPOP_SIGNING_ALGORITHMS);
/** Members that only a private or symmetric key has: a proof carrying any of them leaks its key and is refused. */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Splits a compact JWS and decodes its header and payload; throws DpopProofError("Malformed"). */
export function decodeProof(proof: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signingInput: string; signature: Buffer } {
  if (proof.length > MAX_PROOF_CHARS) throw new DpopProofError("Malformed", `the DPoP proof is longer than ${MAX_PROOF_CHARS} characters`);
  const parts = proof.split(".");
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) {
    throw new DpopProofError("Malformed", "the DPoP proof is not a compact JWS (three base64url parts)");
  }
  const [h, p, s] = parts as [string, string, string];
  // Strict base64url (RFC 7515 section 2): Node's decoder skips what it does not understand, which would give one
  // proof many accepted spellings.
  const decoded = parts.map((part) => Buffer.from(part, "base64url"));
  if (decoded.some((bytes, i) => bytes.toString("base64url") !== parts[i])) {
    throw new DpopProofError("Malformed", "the DPoP proof is not canonical base64url");
  }
  let header: unknown;
  let payload: unknown;
  try {
    header = JSON.parse((decoded[0] ?? Buffer.alloc(0)).toString("utf8"));
    payload = JSON.parse((decoded[1] ?? Buffer.alloc(0)).toString("utf8"));
  } catch {
    throw new DpopProofError("Malformed", "the DPoP proof's header or payload is not JSON");
  }
  if (!isObject(header) || !isObject(payload)) throw new DpopProofError("Malformed", "the DPoP proof's header and payload must be JSON objects");
  return { header, payload, signingInput: `${h}.${p}`, signature: decoded[2] ?? Buffer.from(s, "base64url") };
}

/** RFC 9449 section 4.3 steps 4-7 on the header: typ, alg on the allowlist, a public key that fits the alg. */
export function checkProofHeader(header: Record<string, unknown>, algorithms: readonly DpopAlgorithm[]): { alg: DpopAlgorithm; jwk: DpopJwk } {
  if (header["typ"] !== DPOP_PROOF_TYP) throw new DpopProofError("TypeInvalid", `the DPoP proof's typ must be ${DPOP_PROOF_TYP}`);
  const alg = header["alg"];
  if (typeof alg !== "string" || !ALGORITHMS.has(alg) || !algorithms.includes(alg as DpopAlgorithm)) {
    throw new DpopProofError("AlgorithmNotAllowed", `the DPoP proof's alg must be one of ${algorithms.join(", ")}`);
  }
  if (header["crit"] !== undefined) throw new DpopProofError("Malformed", "the DPoP proof names critical header parameters this server does not support");
  const jwk = header["jwk"];
  if (!isObject(jwk)) throw new DpopProofError("KeyInvalid", "the DPoP proof's header has no jwk");
  if (PRIVATE_MEMBERS.some((m) => m in jwk)) throw new DpopProofError("KeyInvalid", "the DPoP proof's jwk holds private key material");
  const { kty, crv, x, y } = jwk;
  if (alg === "ES256" && kty === "EC" && crv === "P-256" && typeof x === "string" && typeof y === "string" && B64URL_32_BYTES.test(x) && B64URL_32_BYTES.test(y)) {
    return { alg, jwk: { kty, crv, x, y } };
  }
  if (alg === "EdDSA" && kty === "OKP" && crv === "Ed25519" && typeof x === "string" && B64URL_32_BYTES.test(x) && y === undefined) {
    return { alg, jwk: { kty, crv, x } };
  }
  throw new DpopProofError("KeyInvalid", `the DPoP proof's jwk is not a public ${alg === "ES256" ? "P-256" : "Ed25519"} key for ${alg}`);
}

/** RFC 7638 SHA-256 thumbprint, base64url: the value of cnf.jkt. */
export function jwkThumbprint(jwk: DpopJwk): string {
  // Required members only, in lexicographic order, no whitespace.
  const canonical = jwk.kty === "EC" ? `{"crv":"${jwk.crv}","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}` : `{"crv":"${jwk.crv}","kty":"OKP","x":"${jwk.x}"}`;
  return createHash("sha256").update(canonical).digest("base64url");
}

/** RFC 9449 section 4.2: ath, the base64url SHA-256 of the ASCII access token. */
export function accessTokenHash(accessToken: string): string {
  return createHash("sha256").update(accessToken, "ascii").digest("base64url");
}

/**
 * The htu form both sides compare (RFC 9449 section 4.3 step 9): scheme, host, port and path after URL
 * normalisation, without query and fragment. Undefined for anything that is not an absolute http(s) URL.
 */
export function normalizeHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  if (url.username !== "" || url.password !== "") return undefined;
  return `${url.protocol}//${url.host}${url.pathname}`;
}

export interface ProofExpectations {
  /** The request's method, upper case. */
  readonly method: string;
  /** The request's absolute URL as the server is reached (configured, never read from a client's Host header). */
  readonly url: string;
  readonly nowSeconds: number;
  /** How old a proof's iat may be. */
  readonly maxAgeSeconds: number;
  /** How far a proof's iat may be ahead of this clock. */
  readonly leewaySeconds: number;
  /** When set, the proof must carry ath for this token. */
  readonly accessToken?: string;
  /** When set, the proof must carry a nonce this function accepts. */
  readonly nonce?: (nonce: string) => boolean;
}

/** RFC 9449 section 4.3 steps 8-12 on the claims; returns what the replay check needs. */
export function checkProofClaims(payload: Record<string, unknown>, expect: ProofExpectations): { jti: string; iat: number } {
  const { jti, htm, htu, iat, ath, nonce } = payload;
  if (typeof jti !== "string" || jti.length === 0 || jti.length > MAX_JTI_CHARS) {
    throw new DpopProofError("Malformed", `the DPoP proof needs a jti of 1 to ${MAX_JTI_CHARS} characters`);
  }
  if (typeof htm !== "string" || htm !== expect.method) {
    throw new DpopProofError("MethodMismatch", `the DPoP proof is for another HTTP method; sign htm ${expect.method}`);
  }
  const expected = normalizeHtu(expect.url);
  if (typeof htu !== "string" || expected === undefined || normalizeHtu(htu) !== expected) {
    throw new DpopProofError("UrlMismatch", `the DPoP proof is for another URL; sign htu ${expected ?? expect.url}`);
  }
  if (typeof iat !== "number" || !Number.isFinite(iat)) throw new DpopProofError("Malformed", "the DPoP proof has no numeric iat");
  if (iat > expect.nowSeconds + expect.leewaySeconds || iat < expect.nowSeconds - expect.maxAgeSeconds - expect.leewaySeconds) {
    throw new DpopProofError("Stale", `the DPoP proof's iat is outside the ${expect.maxAgeSeconds} s window; sign a new proof for each request`);
  }
  if (expect.nonce !== undefined && (typeof nonce !== "string" || !expect.nonce(nonce))) {
    throw new DpopProofError("NonceRequired", "the DPoP proof must carry the nonce this server provided in DPoP-Nonce");
  }
  if (expect.accessToken !== undefined && (typeof ath !== "string" || ath !== accessTokenHash(expect.accessToken))) {
    throw new DpopProofError("AccessTokenHashMismatch", "the DPoP proof's ath does not match the access token it came with");
  }
  return { jti, iat };
}
