// The pod's DPoP key (RFC 9449): generated at start, held in memory only (never written, never sent), signing proofs.
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { DPOP_PROOF_TYP } from "../../api/constants.ts";
import { accessTokenHash, jwkThumbprint, normalizeHtu, type DpopJwk } from "../../api/dpop.ts";

export interface ProofRequest {
  /** HTTP method of the request the proof is for, e.g. POST. */
  readonly method: string;
  /** Absolute URL of the request; its query and fragment are left out of htu (RFC 9449 section 4.2). */
  readonly url: string;
  /** The access token the request carries; its hash becomes ath. Absent for a token request. */
  readonly accessToken?: string;
  /** A nonce the server provided in DPoP-Nonce. */
  readonly nonce?: string;
}

export interface DpopSigner {
  /** RFC 7638 thumbprint of the public key: what bound tokens carry in cnf.jkt. */
  readonly jkt: string;
  /** Signs a proof; throws TypeError for a URL that is not absolute http(s). */
  proof(request: ProofRequest): string;
}

export interface DpopSignerDeps {
  readonly now: () => Date;
}

/** A P-256 key pair per sidecar process. The private key is a non-extractable-in-practice KeyObject that no code exports. */
export function generateDpopSigner(deps: DpopSignerDeps): DpopSigner {
  const { privateKey, publicKey }: { privateKey: KeyObject; publicKey: KeyObject } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const exported = publicKey.export({ format: "jwk" });
  if (typeof exported.x !== "string" || typeof exported.y !== "string") throw new Error("the DPoP public key has no coordinates");
  const jwk: DpopJwk = { kty: "EC", crv: "P-256", x: exported.x, y: exported.y };
  // The header is the same for every proof: encoded once.
  const header = Buffer.from(JSON.stringify({ typ: DPOP_PROOF_TYP, alg: "ES256", jwk })).toString("base64url");
  return {
    jkt: jwkThumbprint(jwk),
    proof(request) {
      const htu = normalizeHtu(request.url);
      if (htu === undefined) throw new TypeError("url must be an absolute http or https URL without credentials");
      const claims = {
        jti: randomBytes(16).toString("base64url"),
        htm: request.method,
        htu,
        iat: Math.floor(deps.now().getTime() / 1000),
        ...(request.accessToken === undefined ? {} : { ath: accessTokenHash(request.accessToken) }),
        ...(request.nonce === undefined ? {} : { nonce: request.nonce }),
      };
      const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
      // JWS ES256 signatures are r || s (IEEE P1363), not DER.
      const signature = sign("sha256", Buffer.from(input, "ascii"), { key: privateKey, dsaEncoding: "ieee-p1363" });
      return `${input}.${signature.toString("base64url")}`;
    },
  };
}
