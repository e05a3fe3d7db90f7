#!/usr/bin/python3
"""Independent tokens for the JWT tests: keys and JWTs made with PyJWT and pyca/cryptography (Debian
python3-jwt, python3-cryptography), so kedge's verifier is checked against another implementation's
encoding of RS256 and ES256 (R || S), not only against the test's own OpenSSL signer.

Usage: make_python_tokens.py <output folder> <now (Unix seconds)>
Writes <output>/jwks.json (two public keys, kids "py-rsa" and "py-ec") and <output>/tokens.json:
{"<case>": "<token>", ...}; the cases are listed in CASES below and checked by python_tokens_test.cpp.
"""
import json
import sys
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm


def main():
    out = Path(sys.argv[1])
    now = int(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    other_ec_key = ec.generate_private_key(ec.SECP256R1())

    jwks = {"keys": []}
    for kid, public, alg in (("py-rsa", rsa_key.public_key(), RSAAlgorithm),
                             ("py-ec", ec_key.public_key(), ECAlgorithm)):
        jwk = json.loads(alg.to_jwk(public))
        jwk["kid"] = kid
        jwk["use"] = "sig"
        jwks["keys"].append(jwk)
    (out / "jwks.json").write_text(json.dumps(jwks))

    base = {"sub": "py-user", "iss": "https://py.example", "aud": ["x", "kedge"],
            "iat": now - 5, "nbf": now - 5, "exp": now + 600}

    def token(key, alg, kid, **claims):
        return jwt.encode({**base, **claims}, key, algorithm=alg, headers={"kid": kid})

    cases = {
        "valid_rs256": token(rsa_key, "RS256", "py-rsa"),
        "valid_es256": token(ec_key, "ES256", "py-ec"),
        "expired_es256": token(ec_key, "ES256", "py-ec", exp=now - 3600),
        "not_yet_valid_rs256": token(rsa_key, "RS256", "py-rsa", nbf=now + 3600),
        "wrong_audience_rs256": token(rsa_key, "RS256", "py-rsa", aud="other"),
        "wrong_issuer_es256": token(ec_key, "ES256", "py-ec", iss="https://other.example"),
        "other_key_es256": token(other_ec_key, "ES256", "py-ec"),
        "unknown_kid_rs256": token(rsa_key, "RS256", "py-rsa-2"),
        "hs256": jwt.encode(base, "a shared secret", algorithm="HS256", headers={"kid": "py-rsa"}),
        "none": jwt.encode(base, None, algorithm="none"),
    }
    (out / "tokens.json").write_text(json.dumps(cases))


if __name__ == "__main__":
    main()
