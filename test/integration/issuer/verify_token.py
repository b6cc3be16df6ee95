"""Verifies Tessera access tokens with PyJWT, an implementation independent of the issuer's own, using only the
published discovery document and JWKS.

Usage: python3 verify_token.py ISSUER_URL CA_FILE AUDIENCE < tokens.json
Reads a JSON list of tokens on stdin; prints a JSON list with {"kid", "claims"} or {"error"} for each.
"""

import json
import ssl
import sys
import urllib.request

import jwt

ALGORITHMS = ["ES256", "EdDSA"]
REQUIRED = ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id"]


def main() -> int:
    issuer, ca_file, audience = sys.argv[1], sys.argv[2], sys.argv[3]
    context = ssl.create_default_context(cafile=ca_file)
    with urllib.request.urlopen(issuer + "/.well-known/openid-configuration", context=context) as response:
        discovery = json.load(response)
    if discovery.get("issuer") != issuer:
        print(json.dumps({"error": "discovery names another issuer"}))
        return 1
    client = jwt.PyJWKClient(discovery["jwks_uri"], cache_keys=False, cache_jwk_set=False, ssl_context=context)
    results = []
    for token in json.load(sys.stdin):
        try:
            header = jwt.get_unverified_header(token)
            if header.get("typ") != "at+jwt":
                raise ValueError("typ is not at+jwt")
            key = client.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=audience,
                issuer=issuer,
                options={"require": REQUIRED},
            )
            results.append({"kid": header.get("kid"), "alg": header.get("alg"), "claims": claims})
        except Exception as error:  # noqa: BLE001 - every failure is reported, not raised
            results.append({"error": f"{type(error).__name__}: {error}"})
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
