"""Checks a DPoP-bound Tessera token against a DPoP proof with PyJWT and cryptography, independently of Tessera's
TypeScript code: the token's signature and claims from the published keys, then the proof's signature by its own
embedded key, the RFC 7638 thumbprint of that key against the token's cnf.jkt, htm, htu, iat and ath.

Usage: python3 verify_dpop.py ISSUER_URL CA_FILE AUDIENCE < cases.json
Reads a JSON list of {"token", "proof", "method", "url"}; prints a JSON list with {"jkt"} or {"error"} for each.
"""

import base64
import hashlib
import json
import ssl
import sys
import time
import urllib.parse
import urllib.request

import jwt

ALGORITHMS = ["ES256", "EdDSA"]
REQUIRED = ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"]
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
MAX_PROOF_AGE = 60


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def thumbprint(jwk: dict) -> str:
    """RFC 7638: the required members only, sorted, no whitespace, SHA-256."""
    if jwk.get("kty") == "EC":
        members = {"crv": jwk["crv"], "kty": "EC", "x": jwk["x"], "y": jwk["y"]}
    elif jwk.get("kty") == "OKP":
        members = {"crv": jwk["crv"], "kty": "OKP", "x": jwk["x"]}
    else:
        raise ValueError("unsupported key type")
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def htu_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def check(client, issuer: str, audience: str, case: dict) -> dict:
    token, proof = case["token"], case["proof"]
    if jwt.get_unverified_header(token).get("typ") != "at+jwt":
        raise ValueError("token typ is not at+jwt")
    claims = jwt.decode(
        token,
        client.get_signing_key_from_jwt(token).key,
        algorithms=ALGORITHMS,
        audience=audience,
        issuer=issuer,
        leeway=30,
        options={"require": REQUIRED},
    )
    jkt = (claims.get("cnf") or {}).get("jkt")
    if not isinstance(jkt, str):
        raise ValueError("token is not DPoP-bound")
    header = jwt.get_unverified_header(proof)
    if header.get("typ") != "dpop+jwt" or header.get("alg") not in ALGORITHMS:
        raise ValueError("proof header is not a dpop+jwt with an allowed alg")
    key = header.get("jwk")
    if not isinstance(key, dict) or PRIVATE_MEMBERS & set(key):
        raise ValueError("proof jwk is missing or private")
    if thumbprint(key) != jkt:
        raise ValueError("proof key does not match cnf.jkt")
    proof_claims = jwt.decode(proof, jwt.PyJWK(key, header["alg"]).key, algorithms=[header["alg"]], options={"verify_aud": False})
    if proof_claims.get("htm") != case["method"]:
        raise ValueError("htm does not match")
    if htu_of(proof_claims.get("htu", "")) != htu_of(case["url"]):
        raise ValueError("htu does not match")
    if abs(time.time() - proof_claims.get("iat", 0)) > MAX_PROOF_AGE:
        raise ValueError("iat outside the window")
    if proof_claims.get("ath") != b64url(hashlib.sha256(token.encode("ascii")).digest()):
        raise ValueError("ath does not match the token")
    return {"jkt": jkt}


def main() -> int:
    issuer, ca_file, audience = sys.argv[1], sys.argv[2], sys.argv[3]
    context = ssl.create_default_context(cafile=ca_file)
    with urllib.request.urlopen(issuer + "/.well-known/oauth-authorization-server", context=context) as response:
        metadata = json.load(response)
    if metadata.get("issuer") != issuer:
        print(json.dumps([{"error": "metadata names another issuer"}]))
        return 1
    client = jwt.PyJWKClient(metadata["jwks_uri"], ssl_context=context)
    results = []
    for case in json.load(sys.stdin):
        try:
            results.append(check(client, issuer, audience, case))
        except Exception as error:  # every refusal is reported, never raised
            results.append({"error": f"{type(error).__name__}: {error}"})
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
